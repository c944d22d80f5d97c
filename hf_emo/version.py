"""The version of hf_emo (its own module: cards and records read it without importing the package root)."""

__version__ = "0.1.0"
