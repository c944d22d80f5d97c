"""Jobs shared by every method: train (``train``, ``multitask``, ``staged``, ``consistency``), ``evaluate``,
``predict`` and ``push``, over the steps in ``common`` (seeding, output folder and resume, scoring, the run
record and its manifest). Modules are imported where used: ``from hf_emo.jobs.train import train_and_evaluate``."""
