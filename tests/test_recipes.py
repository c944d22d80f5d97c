"""Recipe scripts pick the right config per profile and pass overrides through (hf-emo replaced by a stub)."""

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def echo_bin(tmp_path):
    b = tmp_path / "hf-emo"
    b.write_text('#!/usr/bin/env bash\necho "$@"\n')
    b.chmod(0o755)
    return b


@pytest.mark.parametrize("script,profile,config", [
    ("recipes/romanian_mtkd/00_baseline.sh", None, "recipes/romanian_mtkd/configs/baseline.yaml"),
    ("recipes/romanian_mtkd/00_baseline.sh", "embedded", "recipes/romanian_mtkd/configs/baseline_embedded.yaml"),
    ("recipes/distilbert_emotion/train.sh", "embedded", "recipes/distilbert_emotion/configs/embedded.yaml"),
    ("recipes/distilbert_emotion/train.sh", "paper", "recipes/distilbert_emotion/configs/paper.yaml"),
])
def test_profile_selects_config(script, profile, config, echo_bin):
    args = ["bash", str(ROOT / script)] + (["--profile", profile] if profile else []) + ["--seed", "7"]
    out = subprocess.run(args, capture_output=True, text=True, env={"HF_EMO_BIN": str(echo_bin), "PATH": "/usr/bin:/bin"},
                         check=True).stdout.split()
    assert out[:2] == ["train", "--config"]
    assert Path(out[2]).resolve() == (ROOT / config).resolve()
    assert out[3:] == ["--seed", "7"]
    cfg = yaml.safe_load((ROOT / config).read_text())
    assert cfg["task"] in {"redv2", "dair_emotion"} and cfg["output_dir"].startswith("runs/")


def test_unknown_profile_fails(echo_bin):
    r = subprocess.run(["bash", str(ROOT / "recipes/romanian_mtkd/00_baseline.sh"), "--profile", "gpu"],
                       capture_output=True, text=True, env={"HF_EMO_BIN": str(echo_bin), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "unknown profile 'gpu'" in r.stderr


def test_every_recipe_config_parses():
    from hf_emo.cli import parse_train_args

    for cfg in ROOT.glob("recipes/*/configs/*.yaml"):
        run, config = parse_train_args(["--config", str(cfg)])
        assert run.model_name_or_path and config.output_dir
