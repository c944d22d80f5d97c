"""The run pipeline and the method registry: a new method is a config, a trainer and one registration."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import torch

from tests.conftest import cli_error


# -- a method of one's own: a config and a trainer (module level: Trainer pickles its arguments) -----------------
from hf_emo.losses import mix_losses  # noqa: E402
from hf_emo.method import MethodDescription  # noqa: E402
from hf_emo.trainers import DistillationConfig, DistillationTrainer  # noqa: E402


@dataclass
class LogitMatchingConfig(DistillationConfig):
    match_weight: float = field(default=1.0, metadata={"help": "Weight of the logit-matching term."})


class LogitMatchingTrainer(DistillationTrainer):
    """Logit matching (Ba & Caruana 2014): MSE between the student's and the teacher's logits."""

    _name = "Logit matching"
    config_class = LogitMatchingConfig

    def distillation_loss(self, student_logits, teacher_logits, weight=None, num_items_in_batch=None):
        per = ((student_logits.float() - teacher_logits.float()) ** 2).mean(-1)
        return self.args.match_weight * per.sum() / (num_items_in_batch or per.numel())

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels, teacher = inputs.pop("labels"), inputs.pop("teacher_logits")
        inputs.pop("weight", None)
        outputs = model(**inputs)
        hard = self.supervised_loss(outputs.logits, labels, None, num_items_in_batch)
        loss = mix_losses(
            hard, self.distillation_loss(outputs.logits, teacher, None, num_items_in_batch), self.args.alpha
        )
        return (loss, outputs) if return_outputs else loss

    @classmethod
    def describe(cls, args, **facts):
        return MethodDescription(
            cls.__name__,
            cls._name,
            f"MSE between logits, weight {args.match_weight}.",
            settings={"match_weight": args.match_weight, "alpha": args.alpha},
            tags=(*cls._tag_names, "logit-matching"),
            citations=("@misc{ba2014deep, title={Do Deep Nets Really Need to be Deep?}}",),
        )


def test_a_new_kd_method_defined_here_runs_through_hf_emo_with_its_record_and_card(
    tiny_encoder_dir, data_dir, tmp_path, capsys
):
    """A KD-style method written in this file only (config, trainer, one registration) is a command of hf-emo:
    it trains, and its record and card carry its own description and citation."""
    from hf_emo.cli import main, usage
    from hf_emo.jobs.methods import METHODS, DistillationJob, register_method

    register_method("logit-match", DistillationJob, LogitMatchingTrainer, help="logit matching (Ba & Caruana 2014)")
    try:
        assert "logit-match" in usage() and "logit matching (Ba & Caruana 2014)" in usage()
        common = [
            "--model_name_or_path",
            str(tiny_encoder_dir),
            "--task",
            "redv2",
            "--max_train_samples",
            "24",
            "--max_length",
            "16",
            "--max_steps",
            "2",
            "--per_device_train_batch_size",
            "8",
            "--per_device_eval_batch_size",
            "256",
            "--report_to",
            "none",
            "--save_strategy",
            "no",
            "--use_cpu",
            "true",
        ]
        teacher = tmp_path / "teacher"
        assert main(["train", *common, "--output_dir", str(teacher)]) == 0
        out = tmp_path / "student"
        assert (
            main(
                ["logit-match", *common, "--teacher", str(teacher), "--match_weight", "0.25", "--output_dir", str(out)]
            )
            == 0
        )
        record = json.loads((out / "metrics.json").read_text())
        method = record["run"]["method"]
        assert method["trainer"] == "LogitMatchingTrainer" and method["settings"] == {
            "match_weight": 0.25,
            "alpha": 0.5,
        }
        assert record["run"]["config"]["match_weight"] == 0.25 and "distillation" not in record["run"]
        assert {"test", "validation", "test_loyalty", "test_teacher"} <= set(record)
        capsys.readouterr()
        assert main(["push", "--output-dir", str(out), "--repo-id", "me/lm", "--dry-run", str(tmp_path / "up")]) == 0
        card = (tmp_path / "up" / "README.md").read_text()
        assert "MSE between logits, weight 0.25." in card and "ba2014deep" in card and "logit-matching" in card
        assert main(["logit-match", "--help"]) == 0
        shown = capsys.readouterr().out
        assert "--match_weight" in shown and "--config FILE.yaml" in shown and "--teacher" in shown
    finally:
        METHODS.pop("logit-match", None)


def test_register_method_refuses_a_trainer_the_job_cannot_run_and_a_silent_overwrite():
    from hf_emo.jobs.methods import METHODS, DistillationJob, SingleTaskJob, get_method, register_method
    from transformers import Trainer

    from hf_emo.trainers import EmotionTrainer

    with pytest.raises(TypeError, match="not a subclass of DistillationTrainer"):
        register_method("x", DistillationJob, EmotionTrainer)
    with pytest.raises(TypeError, match="not a subclass of EmotionTrainer"):
        register_method("x", SingleTaskJob, Trainer)
    with pytest.raises(ValueError, match="already registered"):
        register_method("train", DistillationJob)
    assert get_method("train").job is SingleTaskJob and "x" not in METHODS
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        get_method("nope")


def test_every_builtin_command_is_in_the_help_and_an_unknown_one_is_refused(capsys):
    from hf_emo.cli import main
    from hf_emo.commands import NAMES
    from hf_emo.jobs.methods import METHODS

    assert main(["--help"]) == 0
    shown = capsys.readouterr().out
    for name in [*METHODS, *NAMES]:
        assert f"\n  {name} " in shown
    assert {"train", "distil", "mtl", "stages", "consistency", "generative", "pretrain"} <= set(METHODS)
    assert main(["nope"]) == 2 and "unknown command 'nope'" in capsys.readouterr().err


def test_a_job_refuses_bad_arguments_before_touching_the_output_folder(tmp_path, capsys):
    """``check`` runs before the folder guard: a refused run leaves an earlier run's files alone."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.safetensors").write_bytes(b"earlier run")
    line = cli_error(
        capsys,
        [
            "distil",
            "--task",
            "redv2",
            "--output_dir",
            str(out),
            "--overwrite_output_dir",
            "true",
            "--report_to",
            "none",
        ],
    )
    assert "needs at least one --teacher" in line
    assert (out / "model.safetensors").read_bytes() == b"earlier run"


def test_losses_describe_themselves_on_the_card_words_and_citations():
    """A registered loss brings its words and its paper: the trainer's description reads them from the registry."""
    from hf_emo.losses import SUPERVISED_LOSS_INFO, SUPERVISED_LOSSES, register_loss
    from hf_emo.trainers import EmotionConfig, EmotionTrainer

    def squared_hinge(logits, labels, weight=None, num_items_in_batch=None):
        per = torch.clamp(1 - (2 * labels.float() - 1) * logits.float(), min=0) ** 2
        return per.sum() / (num_items_in_batch or per.numel())

    register_loss(
        "sq_hinge", squared_hinge, problem_types=("multi_label",), summary="the squared hinge loss", citation="lin2017"
    )
    try:
        config = EmotionConfig(output_dir="unused", loss="sq_hinge", report_to="none")
        method = EmotionTrainer.describe(config, problem_type="multi_label", pooling="mean")
        assert "Supervised fine-tuning with the squared hinge loss on a mean-pooled encoder" in method.summary
        assert method.citations == ("matei_mtkd", "lin2017")
        focal = EmotionTrainer.describe(
            EmotionConfig(output_dir="unused", loss="focal", report_to="none"), problem_type="single_label"
        )
        assert "the focal loss (Lin et al. 2017)" in focal.summary and "lin2017" in focal.citations
    finally:
        SUPERVISED_LOSSES.pop("sq_hinge", None)
        SUPERVISED_LOSS_INFO.pop("sq_hinge", None)


def test_the_readme_lists_the_registered_methods_and_the_package_exports_each_modules_own_list():
    """The docs' method list is the registry's; ``hf_emo.__all__`` is the union of the public modules' ``__all__``
    (read from their source: ``import hf_emo`` imports none of them)."""
    import importlib
    import re
    from pathlib import Path

    import hf_emo
    from hf_emo.jobs.methods import BUILTIN_METHODS, METHODS

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"Every training command \(([^)]*)\) is a method", readme).group(1)
    assert re.findall(r"`([\w-]+)`", listed) == list(BUILTIN_METHODS) and set(BUILTIN_METHODS) <= set(METHODS)
    exported = set()
    for module in hf_emo._PUBLIC_MODULES:
        exported |= set(importlib.import_module(f"hf_emo.{module}").__all__)
    assert set(hf_emo.__all__) == exported and "DistillationTrainer" in exported and "register_loss" in exported
    assert hf_emo.GradNormWeights.__module__ == "hf_emo.gradnorm"


def test_every_declared_dependency_is_pinned_in_the_lock_that_make_install_uses():
    """setup.cfg keeps ranges; requirements.lock pins each of them (and everything they pull in) to one version, and
    the Makefile installs from it: a dependency added without refreshing the lock (`make lock`) fails here."""
    import configparser
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg", encoding="utf-8")
    declared = cfg["options"]["install_requires"].splitlines()
    for extra in ("dev", "offline"):
        declared += cfg["options.extras_require"][extra].splitlines()

    def name(req: str) -> str:
        return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", req).group(0).lower())

    names = {name(r) for r in declared if r.strip() and not r.strip().startswith("#")} - {"torch"}
    pinned = {
        name(line): line.split("==", 1)[1].strip()
        for line in (root / "requirements.lock").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert names - set(pinned) == set(), "declared but not in the lock: run `make lock`"
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", v) for v in pinned.values())
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert "pip install -q -r requirements.lock" in makefile and "pip install -q --no-deps -e ." in makefile
