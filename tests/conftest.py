"""Shared fixtures: tiny models built from a config (fast), and paths to the real data and models."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

WORDS = (
    "happy sad angry afraid calm joy fear news sport good bad very not i am you it is the a this that "
    "day today great awful love hate market team win lose fericit trist supărat frică bucurie"
).split()


def tiny_tokenizer():
    from transformers import BertTokenizer

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS])}
    return BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=64)


def tiny_bert_config(**kw):
    from transformers import BertConfig

    tok_size = len(WORDS) + 5
    base = dict(
        vocab_size=tok_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    base.update(kw)
    return BertConfig(**base)


@pytest.fixture
def tiny_encoder_dir(tmp_path) -> Path:
    """A folder holding a 2-layer, hidden-32 BERT encoder and its WordPiece tokenizer."""
    from transformers import BertModel

    torch.manual_seed(0)
    d = tmp_path / "tiny-bert"
    BertModel(tiny_bert_config()).save_pretrained(d)
    tiny_tokenizer().save_pretrained(d)
    return d


@pytest.fixture
def data_dir() -> Path:
    from hf_emo.data import default_data_dir

    d = default_data_dir()
    if d is None or not d.is_dir():
        pytest.skip("no local data directory (set HF_EMO_DATA_DIR or put shared/data beside the checkout)")
    return d


@pytest.fixture(autouse=True)
def _subnormals_back_on():
    """A trainer with ``flush_denormal`` flips a process-wide CPU flag: put it back so no test sees another's."""
    yield
    torch.set_flush_denormal(False)


def have_package(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


# -- multi-task helpers: three tiny tasks of the three problem types --------------------------------------
MT_WORDS = "happy sad angry afraid calm joy fear news sport good bad".split()


def mt_specs():
    from hf_emo.data import TaskSpec

    return [
        TaskSpec("emo", "multi_label", ("joy", "sad", "fear"), "en"),
        TaskSpec("sent", "single_label", ("neg", "pos"), "en"),
        TaskSpec("vad", "regression", ("v", "a", "d"), "en"),
    ]


def mt_dataset(spec, n: int, seed: int, tokenizer=None, extra: dict | None = None):
    """``n`` random rows of ``spec`` (texts from the tiny vocabulary), tokenised when a tokenizer is given."""
    import datasets

    g = torch.Generator().manual_seed(seed)
    texts = [" ".join(MT_WORDS[i] for i in torch.randint(0, len(MT_WORDS), (5,), generator=g)) for _ in range(n)]
    if spec.problem_type == "multi_label":
        labels = torch.randint(0, 2, (n, spec.num_labels), generator=g).float().tolist()
    elif spec.problem_type == "single_label":
        labels = torch.randint(0, spec.num_labels, (n,), generator=g).tolist()
    else:
        labels = torch.rand(n, spec.num_labels, generator=g).tolist()
    ds = datasets.Dataset.from_dict({"text": texts, "labels": labels, **(extra or {})})
    if tokenizer is not None:
        ds = ds.map(lambda b: tokenizer(b["text"]), batched=True)
    return ds


def mt_model(head_layout: str = "multi_head", shared_layer_size: int | None = 16, seed: int = 0):
    from hf_emo.models import MultiTaskModel, MultiTaskModelConfig

    torch.manual_seed(seed)
    cfg = MultiTaskModelConfig(
        encoder=tiny_bert_config().to_dict(),
        tasks=mt_specs(),
        head_layout=head_layout,
        shared_layer_size=shared_layer_size,
        classifier_dropout=0.0,
    )
    return MultiTaskModel(cfg)


def cli_error(capsys, argv: list[str]) -> str:
    """Run ``hf-emo argv``, assert it fails with rc 2 and one error line (no trace); return that line."""
    from hf_emo.cli import main

    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    lines = [ln for ln in err if ln.startswith("hf-emo ")]
    assert lines and "Traceback" not in "\n".join(err), err
    return lines[-1]


@pytest.fixture
def load_bench():
    """``load_bench("collect_runs")``: a script of ``bench/`` imported as a module (bench/ is no package)."""

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


def answer_without_hf_emo(code: str, texts: list[str], cwd=None) -> list:
    """Run ``code`` (a card's or the README's snippet, ending in ``print(classify([...]))``) in a Python process
    where ``import hf_emo`` fails, on ``texts`` instead of the snippet's example; returns ``classify(texts)``."""
    import json
    import re
    import subprocess
    import sys

    call = re.search(r"^print\(classify\(.*\)\).*$", code, re.M)
    assert call, code
    answer = f"import json\nprint('ANSWER', json.dumps(classify({json.dumps(texts)})))"
    hidden = 'import sys\nsys.modules["hf_emo"] = None  # as where hf_emo is not installed\n'
    program = hidden + code[: call.start()] + answer + code[call.end() :]
    proc = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("ANSWER "))
    return json.loads(line[len("ANSWER ") :])


def train_tiny_runs(root, kinds: dict[str, list[str]], common: list[str], multitask_caps: dict[str, int]) -> dict:
    """Train a tiny BERT student of each kind with the CLI on real data (skips when the data is missing):
    ``{kind: run folder}``, all started from the tiny encoder ``root / "tiny-bert"``. ``kinds`` maps a name to the
    command line before the encoder; the ``multitask`` kind gets ``multitask_caps`` as its training caps."""
    import json

    import pytest
    import torch
    from transformers import BertModel

    from hf_emo.cli import main
    from hf_emo.data import default_data_dir

    if default_data_dir() is None or not default_data_dir().is_dir():
        pytest.skip("no local data directory (set HF_EMO_DATA_DIR or put shared/data beside the checkout)")
    torch.manual_seed(0)
    encoder = root / "tiny-bert"
    BertModel(tiny_bert_config()).save_pretrained(encoder)
    tiny_tokenizer().save_pretrained(encoder)
    out = {}
    for kind, argv in kinds.items():
        run = root / kind
        extra = ["--model_name_or_path", str(encoder), "--output_dir", str(run), *common]
        if kind == "multitask":  # per-task training caps
            extra[extra.index("--max_train_samples") + 1] = json.dumps(multitask_caps)
        assert main([*argv, *extra]) == 0, kind
        out[kind] = run
    return out
