"""bench/study_lanes.sh: a study's runs in parallel lanes, one shell command per line of a jobs file."""

import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lanes(jobs: Path, lanes: int, logs: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["bash", str(ROOT / "bench/study_lanes.sh"), str(jobs), str(lanes), str(logs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_lanes_run_every_job_line_and_report_the_failures(tmp_path):
    jobs = tmp_path / "jobs.txt"
    jobs.write_text(
        f"# a comment\n\necho one > {tmp_path}/1\n   \n  # indented comment\nexit 3\necho three > {tmp_path}/3\n"
    )
    proc = _lanes(jobs, 2, tmp_path / "logs")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "1 of 3 jobs failed" in err
    assert (tmp_path / "1").read_text() == "one\n" and (tmp_path / "3").read_text() == "three\n"
    summary = (tmp_path / "logs" / "summary.txt").read_text().splitlines()
    assert sorted(line.split()[:3] for line in summary) == [
        ["FAIL", "job2", "rc=3"],
        ["ok", "job1", "rc=0"],
        ["ok", "job3", "rc=0"],
    ]


def test_lines_edited_or_appended_while_the_lanes_run_are_the_ones_that_run(tmp_path):
    """The loop read the file by byte offset: a line rewritten while a job ran was run half-edited (2026-12-04)."""
    jobs, go = tmp_path / "jobs.txt", tmp_path / "go"
    first = f"touch {tmp_path}/started; until [ -f {go} ]; do sleep 0.05; done\n"
    jobs.write_text(first + "echo old >> {}/ran\n".format(tmp_path))
    proc = _lanes(jobs, 1, tmp_path / "logs")
    _wait_for(tmp_path / "started")  # job 1 holds the only lane
    jobs.write_text(
        first
        + "# the old second line, replaced by a longer one\n"
        + f"echo edited second line >> {tmp_path}/ran\necho appended >> {tmp_path}/ran\n"
    )
    go.touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (tmp_path / "ran").read_text() == "edited second line\nappended\n"
    assert len((tmp_path / "logs" / "summary.txt").read_text().splitlines()) == 3
