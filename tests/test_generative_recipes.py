"""The generative recipes: configs parse into the job's dataclasses, scripts pick them per profile and launch the
paper profile through accelerate, and the shipped DDP file runs the job with 2 CPU processes."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_generative import SINGLE, SINGLE_Y, TEXTS, decoder_dir  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = [
    ("wang2024_consistency_kd", "generative", "xed_en_ro", True),
    ("wang2024_consistency_kd", "generative_embedded", "xed_en_ro", False),
    ("distilbert_emotion", "lora", "dair_emotion", False),
    ("distilbert_emotion", "lora_embedded", "dair_emotion", False),
    ("romanian_mtkd", "generative", "redv2", True),
    ("romanian_mtkd", "generative_embedded", "redv2", False),
]


@pytest.mark.parametrize("recipe,name,task,four_bit", CONFIGS)
def test_generative_configs_parse(recipe, name, task, four_bit):
    from hf_emo.jobs.arguments import parse_config_args
    from hf_emo.jobs.generative import GenerativeRunArguments
    from hf_emo.trainers import GenerativeConfig

    run, config = parse_config_args(
        ["--config", str(ROOT / f"recipes/{recipe}/configs/{name}.yaml")], (GenerativeRunArguments, GenerativeConfig)
    )
    assert run.task == task and config.load_in_4bit == four_bit
    if name == "generative" and recipe == "wang2024_consistency_kd":  # Wang et al. 2024's own settings
        assert (
            config.learning_rate,
            config.per_device_train_batch_size,
            config.gradient_accumulation_steps,
            config.num_train_epochs,
        ) == (5e-5, 2, 2, 20)
        assert config.load_best_model_at_end and run.early_stopping_patience
    if name.endswith("embedded"):
        assert run.max_train_samples and run.model_name_or_path in ("SmolLM2-135M-Instruct", "gemma-3-270m")


@pytest.fixture
def echo_tools(tmp_path):
    for tool in ("hf-emo", "accelerate"):
        b = tmp_path / tool
        b.write_text(f'#!/usr/bin/env bash\necho {tool} "$@"\n')
        b.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    "script,profile,config,launched",
    [
        ("recipes/wang2024_consistency_kd/generative.sh", "embedded", "generative_embedded.yaml", False),
        ("recipes/wang2024_consistency_kd/generative.sh", "paper", "generative.yaml", True),
        ("recipes/distilbert_emotion/lora.sh", "paper", "lora.yaml", True),
        ("recipes/romanian_mtkd/11_generative.sh", "embedded", "generative_embedded.yaml", False),
    ],
)
def test_generative_scripts_pick_the_profile_and_launch_the_paper_one_with_accelerate(
    script, profile, config, launched, echo_tools
):
    env = {"HF_EMO_BIN": str(echo_tools / "hf-emo"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        ["bash", str(ROOT / script), "--profile", profile, "--seed", "3"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert config in out and "--seed 3" in out and " generative " in f" {out} "
    if launched:
        assert out.startswith("accelerate launch --config_file") and "recipes/accelerate/one_gpu.yaml" in out
        assert "-m hf_emo.cli generative" in out
    else:
        assert out.startswith("hf-emo generative")


def test_accelerate_files_are_valid_for_their_backends():
    import yaml

    kinds = {"one_gpu": "NO", "ddp": "MULTI_GPU", "fsdp_qlora": "FSDP", "deepspeed_zero3": "DEEPSPEED"}
    for name, kind in kinds.items():
        cfg = yaml.safe_load((ROOT / f"recipes/accelerate/{name}.yaml").read_text())
        assert cfg["distributed_type"] == kind
    fsdp = yaml.safe_load((ROOT / "recipes/accelerate/fsdp_qlora.yaml").read_text())["fsdp_config"]
    assert fsdp["fsdp_cpu_ram_efficient_loading"] and not fsdp["fsdp_use_orig_params"]
    ds = yaml.safe_load((ROOT / "recipes/accelerate/deepspeed_zero3.yaml").read_text())["deepspeed_config"]
    assert ds["zero_stage"] == 3


def test_the_shipped_ddp_file_runs_the_generative_job_on_two_cpu_processes(decoder_dir, tmp_path):  # noqa: F811
    import csv
    import socket

    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("accelerate's launcher is not installed")
    files = {}
    for split in ("train", "validation", "test"):
        files[split] = tmp_path / f"{split}.csv"
        with open(files[split], "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["text", "label"])
            w.writerows([t, SINGLE.label_names[y]] for t, y in zip(TEXTS, SINGLE_Y))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "run"
    cmd = [
        accelerate,
        "launch",
        "--config_file",
        str(ROOT / "recipes/accelerate/ddp.yaml"),
        "--main_process_port",
        str(port),
        "-m",
        "hf_emo.cli",
        "generative",
        "--model_name_or_path",
        str(decoder_dir),
        "--task",
        "none",
        "--train_file",
        str(files["train"]),
        "--validation_file",
        str(files["validation"]),
        "--test_file",
        str(files["test"]),
        "--problem_type",
        "single_label",
        "--max_steps",
        "2",
        "--lora_r",
        "4",
        "--per_device_train_batch_size",
        "2",
        "--report_to",
        "none",
        "--save_strategy",
        "no",
        "--use_cpu",
        "true",
        "--max_text_tokens",
        "16",
        "--output_dir",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, start_new_session=True
    )
    try:
        _, stderr = proc.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _, stderr = proc.communicate()
        pytest.fail(f"accelerate launch did not finish in 420 s:\n{stderr[-4000:]}")
    assert proc.returncode == 0, stderr[-6000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert "accuracy" in metrics["test"] and (out / "adapter_model.safetensors").is_file()
    assert metrics["run"]["processes"] == 2  # two ranks trained (gloo on the CPU), rank 0 wrote


def test_fsdp_qlora_prepares_one_dtype_per_wrap_unit(tmp_path):
    """FSDP flattens each wrap unit (a decoder layer; the rest at the root) into tensors of one dtype. The QLoRA
    preparation for FSDP stores the 4-bit weights, the other weights and the adapter in the compute dtype; the
    single-GPU preparation (``prepare_model_for_kbit_training``: fp32 norms beside bf16 storage) would be refused
    ("Must flatten tensors with uniform dtype")."""
    import torch

    from hf_emo.data import TaskSpec
    from hf_emo.generative import build_decoder, load_decoder_tokenizer
    from hf_emo.generative.decoder import four_bit_problem, fsdp_units
    from tests.standins import build

    if four_bit_problem():
        pytest.skip(four_bit_problem())
    build("bloom", tmp_path / "bloom", ["joy fear sadness yes no, tweet response instruction"] * 50)
    tokenizer = load_decoder_tokenizer(str(tmp_path / "bloom"))
    spec = TaskSpec("t", "multi_label", ("joy", "fear", "sadness"), "en")
    common = dict(load_in_4bit=True, compute_dtype="bfloat16", gradient_checkpointing=True)
    sharded = build_decoder(str(tmp_path / "bloom"), spec, tokenizer, fsdp=True, **common)
    units = fsdp_units(sharded)
    assert len(units) == 3  # two decoder layers and the root
    assert all(dtypes == {torch.bfloat16} for dtypes in units.values()), units
    assert any(p.requires_grad for p in sharded.parameters())
    single_gpu = build_decoder(str(tmp_path / "bloom"), spec, tokenizer, fsdp=False, quant_storage="bfloat16", **common)
    assert any(len(dtypes) > 1 for dtypes in fsdp_units(single_gpu).values())


def test_the_deepspeed_zero3_file_loads_into_accelerates_plugin():
    import yaml
    from accelerate.utils import DeepSpeedPlugin

    cfg = yaml.safe_load((ROOT / "recipes/accelerate/deepspeed_zero3.yaml").read_text())
    plugin = DeepSpeedPlugin(**cfg["deepspeed_config"])
    zero = plugin.deepspeed_config["zero_optimization"]
    assert plugin.zero_stage == 3 and zero["stage"] == 3 and zero["stage3_gather_16bit_weights_on_model_save"]
    assert plugin.deepspeed_config["gradient_accumulation_steps"] == "auto"  # filled from the training arguments
    assert cfg["mixed_precision"] == "bf16" and cfg["num_processes"] >= 1


def test_the_gpu_smoke_script_names_files_that_exist():
    """bench/gpu_smoke.sh runs only where a GPU is lent: here, check that it parses and that every config and
    accelerate file it names exists (a renamed config would otherwise surface only on the GPU)."""
    import re

    script = ROOT / "bench" / "gpu_smoke.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    named = set(re.findall(r"recipes/[\w/]+\.yaml", script.read_text()))
    assert {"recipes/accelerate/fsdp_qlora.yaml", "recipes/accelerate/ddp.yaml"} <= named
    assert all((ROOT / path).is_file() for path in named), named
