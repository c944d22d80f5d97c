"""The run pipeline every training job shares, written once, and the registry of methods.

A run goes ``check -> start (folder guard, seed) -> prepare (data, model, trainer) -> train -> score -> save ->
record -> report -> finish``. :class:`TrainingJob` holds that order; a job (single-task, distillation, multi-task,
staged, consistency, generative, pretraining) overrides only the hooks where it differs. A method is a trainer (whose
``config_class`` is its config) run by one of these jobs, made a command of ``hf-emo`` by one
:func:`register_method` call; the command line, the exports and the method list in the docs read :data:`METHODS`.

The record keeps the configuration as given (``run.config``) and every fact about the method once, in the
description the trainer writes (``run.method``); :meth:`TrainingJob.facts` adds what is not the method's: the data,
the model, the threshold, the timings.
"""

from __future__ import annotations

import abc
import sys
from dataclasses import dataclass
from typing import Any, ClassVar

from ..method import MethodDescription
from ..trainers.loss_log import check_finite_weights
from .record import RunRecord, command_line
from .run_folder import JobArguments, JobError, JobStart, finish_job, start_job

__all__ = ["TrainingJob", "Method", "METHODS", "register_method", "get_method", "method_for_config"]


class TrainingJob(abc.ABC):
    """One run of one method, from arguments to ``metrics.json``, ``report.md`` and the saved model.

    Subclasses set ``run_arguments`` (the dataclass of what to train on and from) and ``trainer_class`` (the default
    trainer; a registered method may bring its own subclass of it) and override the hooks:

    * :meth:`check`: refuse arguments before the output folder is touched;
    * :meth:`prepare`: data, model and ``self.trainer``, in the order that fixes the random draws;
    * :meth:`train` (``trainer.train`` with the resume checkpoint), :meth:`score` (``(metrics, detail)``),
      :meth:`save` (every process), :meth:`export` (the main process: files beside the model);
    * :meth:`facts` (the run's facts besides the method), :meth:`method_facts` (facts the trainer's description
      needs from the job, e.g. the teachers' names), :meth:`report`.
    """

    run_arguments: ClassVar[type] = JobArguments
    trainer_class: ClassVar[type]

    def __init__(self, run: Any, config: Any, command: str | None = None, trainer_class: type | None = None) -> None:
        self.run, self.config = run, config
        self.command = command or command_line("python", sys.argv)
        self.trainer_class = trainer_class or type(self).trainer_class
        self.trainer = None
        self.start: JobStart | None = None

    # -- the pipeline --------------------------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        """Run every step; returns ``{"metrics": ..., "run": ...}`` as written to ``metrics.json``."""
        check_trackers(self.config)
        self.check()
        self.start = start_job(self.config, self.run)
        try:
            return self._run()
        except BaseException:  # an earlier run set aside comes back; the lock goes
            self.start.abort()
            raise

    def _run(self) -> dict[str, Any]:
        self.prepare()
        self.start.set_aside()  # an earlier run being replaced, only now that every input has been read
        train_output = self.train()
        train_runtime = self.start.elapsed()
        metrics, detail = self.score()
        self.save()
        if not self.trainer.is_world_process_zero():  # under DDP every rank trained and scored; one writes
            return {"metrics": metrics, "run": {}}
        self.export()
        info = {
            **self.facts(),
            "train_runtime_s": train_runtime,
            "train_loss": train_output.training_loss,
            "resumed_from": self.start.resume_from_checkpoint,
        }
        record = RunRecord.for_config(
            self.method(), self.config, metrics=metrics, info=info, detail=detail, command=self.command
        )
        self.report(record)
        finish_job(self.config.output_dir, self.start)
        return {"metrics": metrics, "run": record.run}

    # -- hooks ---------------------------------------------------------------------------------------------
    def check(self) -> None:
        """Refuse arguments that cannot run, before the output folder is touched."""

    @abc.abstractmethod
    def prepare(self) -> None:
        """Load the data, build the model and ``self.trainer`` (every job defines it)."""

    def train(self):
        checkpoint = self.start.resume_from_checkpoint
        try:
            return self.trainer.train(resume_from_checkpoint=checkpoint)
        except RuntimeError as e:  # a checkpoint of another model (other labels, layers or encoder): one sentence
            if checkpoint is None or "Error(s) in loading state_dict" not in str(e):
                raise
            mismatch = next((ln.strip() for ln in str(e).splitlines() if "size mismatch" in ln or "Missing" in ln), "")
            raise JobError(
                f"checkpoint {checkpoint} holds another model than this run builds ({mismatch[:200]}): resume a "
                "checkpoint of the same model, task and labels"
            ) from None

    def score(self) -> tuple[dict[str, dict], dict[str, Any]]:
        """``(metrics per split, detail of the test split)``."""
        return {}, {}

    def save(self) -> None:
        """Save the model (every process: sharded models gather here); a model with a non-finite weight is refused,
        never saved."""
        check_finite_weights(self.trainer.accelerator.unwrap_model(self.trainer.model), self.trainer.state.global_step)
        self.trainer.save_model(self.config.output_dir)

    def export(self) -> None:
        """Main process, after :meth:`save`: files that go beside the model."""

    def facts(self) -> dict[str, Any]:
        """The run's facts that are not the method's: data, model, threshold, split sizes."""
        return {}

    def method_facts(self) -> dict[str, Any]:
        """What the trainer's description of the method needs from the job (the teachers' names, ...)."""
        return {}

    def method(self) -> MethodDescription:
        return self.trainer.method_description(**self.method_facts())

    def planned_method(self) -> MethodDescription:
        """The method as the arguments alone describe it, before any data or model is loaded (what a record
        rebuilt from a log holds)."""
        raise NotImplementedError(f"{type(self).__name__} cannot describe its method before it runs")

    def report(self, record: RunRecord) -> None:
        """Write ``metrics.json`` and the report."""
        record.save(self.config.output_dir)


TRACKER_EXTRA = ("tensorboard", "wandb", "trackio")  # what `pip install 'hf_emo[tracking]'` brings


def check_trackers(config: Any) -> None:
    """Refuse, in one sentence and before any work, a ``report_to`` tracker whose package is not installed
    (transformers raises a RuntimeError from inside ``Trainer.__init__``, after the data and the model loaded)."""
    wanted = [r for r in (getattr(config, "report_to", None) or []) if r not in ("none", "all")]
    if not wanted:
        return
    from transformers.integrations import get_available_reporting_integrations

    missing = [r for r in wanted if r not in get_available_reporting_integrations()]
    if missing:
        extra = " or ".join(
            "pip install 'hf_emo[tracking]' (tensorboard, wandb and trackio)" if r in TRACKER_EXTRA
            else f"pip install {r.replace('_', '-')}" for r in missing[:1]
        )  # fmt: skip
        raise JobError(f"report_to {', '.join(missing)}: not installed; {extra}, or pass --report_to none")


# -- the registry ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """A command of ``hf-emo``: ``job`` runs ``trainer`` (whose ``config_class`` is the config the command
    parses)."""

    name: str
    job: type[TrainingJob]
    trainer: type
    help: str = ""

    @property
    def config_class(self) -> type:
        return self.trainer.config_class

    @property
    def argument_classes(self) -> tuple[type, type]:
        """The two dataclasses a command line fills: the job's run arguments and the trainer's config."""
        return self.job.run_arguments, self.config_class

    def run(self, run: Any, config: Any, command: str | None = None) -> dict[str, Any]:
        return self.job(run, config, command=command, trainer_class=self.trainer).execute()


METHODS: dict[str, Method] = {}


def register_method(
    name: str, job: type[TrainingJob], trainer: type | None = None, *, help: str = "", overwrite: bool = False
) -> Method:
    """Make ``trainer`` (default: the job's own) a command ``hf-emo NAME``, run by ``job``.

    The trainer must be the job's trainer or a subclass of it (the job calls its constructor), and its
    ``config_class`` a subclass of the job trainer's config (the job reads those fields)."""
    trainer = trainer or job.trainer_class
    base = job.trainer_class
    if not (isinstance(trainer, type) and issubclass(trainer, base)):
        raise TypeError(
            f"method {name!r}: {trainer!r} is not a subclass of {base.__name__}, the trainer {job.__name__} runs"
        )
    config_class = getattr(trainer, "config_class", None)
    if not (isinstance(config_class, type) and issubclass(config_class, base.config_class)):
        raise TypeError(
            f"method {name!r}: {trainer.__name__}.config_class must be a subclass of "
            f"{base.config_class.__name__}, got {config_class!r}"
        )
    if name in METHODS and not overwrite and (METHODS[name].job, METHODS[name].trainer) != (job, trainer):
        raise ValueError(f"a method named {name!r} is already registered (pass overwrite=True)")
    METHODS[name] = Method(name, job, trainer, help or (trainer.__doc__ or "").strip().split("\n")[0])
    return METHODS[name]


def get_method(name: str) -> Method:
    try:
        return METHODS[name]
    except KeyError:
        raise JobError(f"unknown method {name!r}; registered: {sorted(METHODS)}") from None


def method_for_config(config: Any) -> Method:
    """The registered method whose config class is exactly ``type(config)`` (the first registered, when several)."""
    for method in METHODS.values():
        if method.config_class is type(config):
            return method
    raise JobError(f"no registered method takes a {type(config).__name__}")
