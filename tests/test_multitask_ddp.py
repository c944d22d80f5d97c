"""DDP on CPU: `accelerate launch --num_processes 2` (gloo) with a tiny three-task model.

Two processes with batch 4 each see the same task at every step and train like one process with batch 8: no
unused-parameter error, and the same weights and metrics within float tolerance.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).parent / "scripts" / "multitask_ddp.py"
# accelerate's MULTI_CPU type launches through mpirun (one process without an MPI host file); its torchrun-based
# multi-process launcher is the MULTI_GPU type, and with `use_cpu=True` in the training arguments the processes
# join a gloo group on the CPU.
ACCELERATE_CONFIG = """compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_machines: 1
num_processes: 2
machine_rank: 0
main_process_ip: 127.0.0.1
main_process_port: {port}
mixed_precision: 'no'
use_cpu: false
gpu_ids: all
"""


def _launch(tmp_path: Path, out: Path, weighting: str, port: int) -> dict:
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    if accelerate is None:
        pytest.skip("accelerate's launcher is not installed")
    cfg = tmp_path / "accelerate.yaml"
    cfg.write_text(ACCELERATE_CONFIG.format(port=port))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.Popen(
        [accelerate, "launch", "--config_file", str(cfg), str(SCRIPT), str(out), "4", weighting],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = proc.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both workers, so no stray rank holds the port
        _, stderr = proc.communicate()
        pytest.fail(f"accelerate launch did not finish in 420 s; its stderr ends with:\n{stderr[-6000:]}")
    assert proc.returncode == 0, stderr[-6000:]
    return torch.load(out / "result.pt", weights_only=True)


def _single(out: Path, weighting: str) -> dict:
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(out), "8", weighting], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return torch.load(out / "result.pt", weights_only=True)


@pytest.mark.parametrize("weighting,port", [("static", 29531), ("gradnorm", 29533)])
def test_two_processes_match_one(tmp_path, weighting, port):
    ddp = _launch(tmp_path, tmp_path / "ddp", weighting, port)
    one = _single(tmp_path / "one", weighting)
    assert ddp["world_size"] == 2 and one["world_size"] == 1
    for name, p in one["params"].items():
        assert torch.allclose(p, ddp["params"][name], atol=1e-5), name
    for key in ("eval_emo_f1_micro", "eval_sent_accuracy", "eval_vad_pearson_mean", "eval_loss"):
        assert ddp["metrics"][key] == pytest.approx(one["metrics"][key], abs=1e-4), key
    for task, w in one["gradnorm"].items():
        assert ddp["gradnorm"][task] == pytest.approx(w, abs=1e-5)
