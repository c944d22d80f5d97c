"""Export a fine-tuned classifier for serving on a CPU: ONNX Runtime (fp32 or dynamic int8), or PyTorch dynamic int8.

An export folder holds the model (``model.onnx`` or ``model_int8.pt``), the classifier's ``config.json`` (labels,
problem type, tuned thresholds, text prefix and length limit), its tokenizer and ``hf_emo_export.json`` (what was
exported, how, and with which library versions). :func:`load_exported` reads it back, and ``hf-emo predict --model
FOLDER`` answers from it as it does from the run it came from.

The ONNX graph is the whole classifier (encoder, pooling, optional shared layer and head) with one output,
``logits``, and dynamic batch and sequence axes. It is traced with eager attention so that ONNX Runtime's
transformer optimizer can fuse the attention, embedding and layer-norm subgraphs, and ``--quantize int8`` then
quantises its matrix products' weights to int8 (dynamic quantisation: activations are scaled per batch at run
time). optimum's exporter is not used: its ONNX package (optimum-onnx 0.1.0, checked 2026-12-06) requires
transformers < 4.58, it refuses hf_emo's pooled classifier (a custom architecture) without a custom ONNX config, and
it exports an encoder without its pooling.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .models.factory import load_classifier, load_config, load_tokenizer
from .models.modeling_hf_emo import GENERATIVE_FILE
from .zoo import resolve_model

__all__ = [
    "EXPORT_FILE",
    "FORMATS",
    "QUANTIZATIONS",
    "ExportError",
    "ExportedClassifier",
    "export_classifier",
    "exportable_model",
    "is_exported",
    "load_exported",
    "quantize_dynamic_int8",
    "quantize_onnx_int8",
]

EXPORT_FILE = "hf_emo_export.json"
FORMATS = ("onnx", "torch")
QUANTIZATIONS = ("none", "int8")
ONNX_FILE = "model.onnx"
TORCH_INT8_FILE = "model_int8.pt"
ONNX_OPSET = 17
# encoders whose graphs ONNX Runtime's "bert" optimizer fuses (attention, embeddings + layer norm, GELU)
ORT_BERT_LIKE = {"bert", "roberta", "xlm-roberta", "camembert", "distilbert", "electra", "mpnet"}
INSTALL_ONNX = "pip install 'hf_emo[onnx]' (onnx and onnxruntime)"


class ExportError(ValueError):
    """A model that cannot be exported, or a missing extra: the message is one sentence for the user."""


def require_onnx() -> None:
    """Raise :class:`ExportError` naming the extra when onnx or onnxruntime is not installed."""
    missing = []
    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ExportError(f"the ONNX format needs {' and '.join(missing)}, which is not installed: {INSTALL_ONNX}")


def is_exported(path: str | Path) -> bool:
    """Whether ``path`` is a folder written by :func:`export_classifier`."""
    return (Path(path) / EXPORT_FILE).is_file()


def exportable_model(source: str, task: str | None):
    """The classifier to export from ``source``: a single-task classifier, or one head of a multi-task model."""
    if (Path(source) / GENERATIVE_FILE).is_file():
        raise ExportError(
            f"{source} is a LoRA adapter of a decoder (hf-emo generative): export covers encoder classifiers "
            "(hf-emo train / distil / mtl runs); serve an adapter with peft, or merge it first"
        )
    config = load_config(source)
    if config.model_type == "hf_emo_multitask":
        from .models.multitask_model import MultiTaskModel

        model = MultiTaskModel.from_pretrained(resolve_model(source))
        if task is None:
            raise ExportError(
                f"{source} is a multi-task model: export one task's head with --task NAME "
                f"(one of {', '.join(model.task_names)})"
            )
        if task not in model.task_names:
            raise ExportError(f"{source} has no task {task!r}: its tasks are {', '.join(model.task_names)}")
        return model.task_classifier(task)
    if task is not None:
        raise ExportError(f"--task is for a multi-task model, and {source} has one task")
    return load_classifier(source)


class _LogitsOnly(torch.nn.Module):
    """The classifier with positional inputs and one output (what an ONNX graph is traced from)."""

    def __init__(self, model: torch.nn.Module, input_names: list[str]) -> None:
        super().__init__()
        self.model, self.input_names = model, input_names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.model(**dict(zip(self.input_names, inputs))).logits


def _input_names(model, tokenizer) -> list[str]:
    """The tokenizer's outputs that the model reads, in a fixed order."""
    names = ["input_ids", "attention_mask"]
    uses_types = "token_type_ids" in tokenizer.model_input_names and getattr(
        _encoder_config(model), "type_vocab_size", 0
    )
    return names + (["token_type_ids"] if uses_types else [])


def _encoder_config(model):
    return getattr(getattr(model, "encoder", None), "config", None) or model.config


def _export_onnx(model, tokenizer, folder: Path, *, optimize: bool, quantize: str) -> dict[str, Any]:
    import warnings

    import onnx
    import onnxruntime

    names = _input_names(model, tokenizer)
    model.set_attn_implementation("eager")  # the graph ONNX Runtime's optimizer recognises and fuses
    sample = tokenizer(["a short text", "a somewhat longer text, to trace padding"], padding=True, return_tensors="pt")
    inputs = tuple(sample[n] for n in names)
    raw = folder / "model_raw.onnx"
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _LogitsOnly(model, names).eval(),
            inputs,
            str(raw),
            dynamo=False,  # TorchScript tracing: one self-contained file whose subgraphs the optimizer fuses
            input_names=names,
            output_names=["logits"],
            dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
        )
    facts: dict[str, Any] = {
        "inputs": names,
        "opset": ONNX_OPSET,
        "exporter": "torch.onnx (TorchScript)",
        "fusions": {},
    }
    graph = raw
    encoder = _encoder_config(model)
    if optimize and encoder.model_type in ORT_BERT_LIKE:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimized = optimizer.optimize_model(
                str(raw),
                model_type="bert",
                num_heads=encoder.num_attention_heads,
                hidden_size=encoder.hidden_size,
            )
        facts["fusions"] = {k: v for k, v in optimized.get_fused_operator_statistics().items() if v}
        graph = folder / "model_fused.onnx"
        optimized.save_model_to_file(str(graph))
    final = folder / ONNX_FILE
    if quantize == "int8":
        quantize_onnx_int8(graph, final)
        facts["quantization"] = "dynamic int8 (onnxruntime.quantization.quantize_dynamic, QInt8 weights, per channel)"
    else:
        graph.replace(final)
    for leftover in (raw, folder / "model_fused.onnx"):
        leftover.unlink(missing_ok=True)
    facts["versions"] = {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__}
    return facts


def quantize_onnx_int8(source: Path, target: Path, *, per_channel: bool = True, **options: Any) -> None:
    """``hf-emo export --quantize int8`` on an ONNX graph: ONNX Runtime's dynamic quantisation (QInt8 weights, per
    channel; activations scaled per batch at run time). ``options`` go to ``quantize_dynamic`` (``nodes_to_exclude``,
    ``op_types_to_quantize``: ``bench/int8_variants.py`` compares them)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # its "run pre-processing first" advice is for static quantisation
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
            **options,
        )
    finally:
        logging.getLogger().setLevel(quiet)


def _without_remote_code(path: Path) -> None:
    """Drop ``auto_map`` / ``custom_pipelines`` from an export's ``config.json``: the export runs no model code of
    its own, and naming a code file it does not carry makes ``AutoTokenizer`` ask to trust it."""
    config = json.loads(path.read_text(encoding="utf-8"))
    for key in ("auto_map", "custom_pipelines"):
        config.pop(key, None)
    path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def quantize_dynamic_int8(model: torch.nn.Module) -> torch.nn.Module:
    """PyTorch dynamic int8 quantisation of every ``nn.Linear`` (weights int8, activations scaled per batch), in
    place of ``model``'s float linear layers; CPU only."""
    return torch.ao.quantization.quantize_dynamic(model.cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)


def export_classifier(
    source: str,
    folder: str | Path,
    *,
    format: str = "onnx",
    quantize: str = "none",
    task: str | None = None,
    optimize: bool = True,
) -> dict[str, Any]:
    """Export the classifier ``source`` (a run folder, a local model folder or a Hub id) into the empty or new
    ``folder``; returns what :data:`EXPORT_FILE` records. ``task`` picks one head of a multi-task model."""
    if format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {format!r}")
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    if format == "torch" and quantize != "int8":
        raise ExportError(
            "--format torch exports the dynamic int8 model: pass --quantize int8 (the float model is the run itself)"
        )
    if format == "onnx":
        require_onnx()
    model = exportable_model(source, task).cpu().eval()
    tokenizer = load_tokenizer(source)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if format == "onnx":
        facts = _export_onnx(model, tokenizer, folder, optimize=optimize, quantize=quantize)
        weights = ONNX_FILE
    else:
        torch.save(quantize_dynamic_int8(model).state_dict(), folder / TORCH_INT8_FILE)
        facts = {"quantization": "dynamic int8 (torch.ao.quantization.quantize_dynamic, every nn.Linear)"}
        weights = TORCH_INT8_FILE
    model.config.save_pretrained(folder)
    _without_remote_code(folder / "config.json")
    tokenizer.save_pretrained(folder)
    import transformers

    manifest = {
        "format": format,
        "quantize": quantize,
        "weights": weights,
        "source": Path(str(source).rstrip("/")).name,  # the run's name, never a local path
        "task": task,
        "model_type": model.config.model_type,
        "encoder": _encoder_config(model).model_type,
        **facts,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "python": platform.python_version(),
            **facts.get("versions", {}),
        },
        "bytes": (folder / weights).stat().st_size,
    }
    (folder / EXPORT_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (folder / "README.md").write_text(usage_note(manifest), encoding="utf-8")
    return manifest


ONNX_SNIPPET = """import json

import numpy as np
import onnxruntime as ort
from transformers import AutoTokenizer

folder = "{folder}"
config = json.load(open(f"{{folder}}/config.json", encoding="utf-8"))
tokenizer = AutoTokenizer.from_pretrained(folder)
session = ort.InferenceSession(f"{{folder}}/model.onnx", providers=["CPUExecutionProvider"])
inputs = [i.name for i in session.get_inputs()]
labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]


def classify(texts):
    enc = tokenizer([(config.get("text_prefix") or "") + t for t in texts], padding=True, truncation=True,
                    max_length=config.get("max_seq_length") or 512, return_tensors="np")
    logits = session.run(["logits"], {{n: enc[n].astype(np.int64) for n in inputs}})[0]
    if config.get("problem_type") == "multi_label_classification":
        probs = 1 / (1 + np.exp(-logits))
        thresholds = np.broadcast_to(np.asarray(config.get("hf_emo_threshold") or 0.5), (len(labels),))
        return [[n for n, p, t in zip(labels, row, thresholds) if p >= t] for row in probs]
    if config.get("problem_type") == "regression":
        return [dict(zip(labels, row.tolist())) for row in logits]
    return [[labels[int(row.argmax())]] for row in logits]


print(classify(["I am so happy today", "this makes me furious"]))
"""


def usage_note(manifest: dict[str, Any], folder_name: str | None = None) -> str:
    """The export folder's ``README.md``: what it holds and how to run it (ONNX: with onnxruntime and a tokenizer
    alone, applying the text prefix, the length limit, the problem type and the thresholds as hf-emo does)."""
    name = folder_name or "path/to/this/folder"
    head = (
        f"# {manifest['source']}: {manifest['format']} export"
        + ("" if manifest["quantize"] == "none" else f", {manifest['quantize']}")
        + "\n\nWritten by `hf-emo export` (hf_emo). `hf-emo predict --model THIS_FOLDER` answers from it as from the "
        "run it came from; `hf_emo_export.json` records how it was made and, when it was checked, how often its "
        "labels equal the PyTorch model's on the test split.\n\n"
    )
    if manifest["quantize"] == "int8":
        head += (
            "Dynamic int8 scales each layer's activations by their range over the whole batch, so a text whose top "
            "scores are nearly tied can get another label in another batch (measured: 1.9 % of dair-ai emotion test "
            "texts, 13 % of REDv2's multi-label texts; `bench/int8_variants.py`). Where repeatable labels matter, "
            "classify one text at a time.\n\n"
        )
    if manifest["format"] == "onnx":
        return head + (
            "Without hf_emo, with `onnxruntime`, `numpy` and `transformers` (for the tokenizer) only:\n\n```python\n"
            + ONNX_SNIPPET.format(folder=name)
            + "```\n"
        )
    return head + (
        "The weights are a PyTorch dynamic-int8 state dict: load them with `hf_emo.export.load_exported(folder)`, "
        "which rebuilds the model from `config.json`, quantises it the same way and loads the state dict "
        "(`torch.load(..., weights_only=True)`).\n"
    )


@dataclass
class ExportedClassifier:
    """An export folder, loaded: ``logits(texts)`` reads the texts as the source model did (its text prefix, its
    length limit) and returns its logits; ``config`` is the source model's config (labels, problem type,
    thresholds)."""

    folder: Path
    config: Any
    tokenizer: Any
    manifest: dict[str, Any]
    session: Any = None  # onnxruntime.InferenceSession
    model: torch.nn.Module | None = None  # the PyTorch int8 model

    @property
    def text_prefix(self) -> str:
        return getattr(self.config, "text_prefix", "") or ""

    @property
    def max_length(self) -> int:
        return getattr(self.config, "max_seq_length", None) or 512

    def encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        names = self.manifest.get("inputs") or ["input_ids", "attention_mask"]
        enc = self.tokenizer(
            [self.text_prefix + t for t in texts],
            truncation=True,
            max_length=self.max_length,
            padding=True,
            return_tensors="np",
        )
        return {n: enc[n].astype(np.int64) for n in names if n in enc}

    def run(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Logits of one encoded batch."""
        if self.session is not None:
            return self.session.run(["logits"], inputs)[0]
        with torch.inference_mode():
            return self.model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).logits.float().numpy()

    def logits(self, texts: list[str], batch_size: int = 32, *, desc: str = "predicting") -> np.ndarray:
        """``(N, C)`` logits in the order of ``texts``. Texts are batched by token length (sorted, then put back in
        order), so a batch pads to its own longest text rather than to a random one's."""
        from tqdm.auto import tqdm

        lengths = [
            len(ids)
            for ids in self.tokenizer(
                [self.text_prefix + t for t in texts], truncation=True, max_length=self.max_length
            )["input_ids"]
        ]
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(texts), self.config.num_labels), dtype=np.float32)
        for i in tqdm(range(0, len(texts), batch_size), desc=desc, disable=len(texts) <= batch_size):
            rows = order[i : i + batch_size]
            out[rows] = self.run(self.encode([texts[j] for j in rows]))
        return out


def load_exported(folder: str | Path, *, threads: int | None = None) -> ExportedClassifier:
    """Load an export folder (:func:`export_classifier`); ``threads``: ONNX Runtime's intra-op threads (default:
    PyTorch's thread count, so both run on the same cores)."""
    folder = Path(folder)
    if not is_exported(folder):
        raise ExportError(
            f"{folder} is not an export folder (it has no {EXPORT_FILE}): export one with `hf-emo export`"
        )
    manifest = json.loads((folder / EXPORT_FILE).read_text(encoding="utf-8"))
    config = load_config(str(folder))
    tokenizer = load_tokenizer(str(folder))
    weights = folder / manifest["weights"]
    if not weights.is_file():
        raise ExportError(f"export folder {folder} has lost its model file {manifest['weights']}: export it again")
    if manifest["format"] == "onnx":
        require_onnx()
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        session = onnxruntime.InferenceSession(str(weights), options, providers=["CPUExecutionProvider"])
        return ExportedClassifier(folder, config, tokenizer, manifest, session=session)
    from transformers import AutoModelForSequenceClassification

    from .models.pooled_classifier import PooledClassifier

    skeleton = (
        PooledClassifier(config)
        if config.model_type == "hf_emo_pooled_classifier"
        else AutoModelForSequenceClassification.from_config(config)
    )
    model = quantize_dynamic_int8(skeleton)
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return ExportedClassifier(folder, config, tokenizer, manifest, model=model.eval())
