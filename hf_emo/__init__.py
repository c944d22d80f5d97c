"""hf_emo: Hugging Face Trainer subclasses for text emotion recognition.

Public API (see README): data (``load_task``, ``load_local``, ``TASKS``, ``TaskSpec``), offline models
(``materialize``), models (``PooledClassifier``, ``build_classifier``, ``MultiTaskModel``), metrics, losses (by name:
``get_supervised_loss``, ``register_loss``, ``register_kd_loss``) and trainers (``EmotionTrainer``,
``DistillationTrainer``, ``MultiTaskTrainer``, ``ConsistencyDistillationTrainer``), cross-lingual building blocks
(translation-quality weights, ``translate_column``, ensembles, trigger words).

Names are imported on first use (PEP 562), so ``import hf_emo`` costs no more than ``import transformers``; the
command line and the jobs pull in torch and the Trainers only when they run.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .noise import silence_known_noise

silence_known_noise()  # before transformers imports peft, which imports bitsandbytes

from .version import __version__  # noqa: E402,F401

# submodule -> the public names it provides
_EXPORTS: dict[str, tuple[str, ...]] = {
    "data": ("TASK_SAMPLERS", "TASKS", "DataError", "MixedTaskCollator", "MultiTaskBatchSampler", "MultiTaskDataset",
             "PairedDataCollator",
             "TaskSpec", "load_local", "load_task", "tokenize_teacher_side",),
    "callbacks": ("EarlyStoppingInMemory",),
    "ensemble": ("ensemble_probabilities", "evaluate_ensemble",),
    "explain": ("render_html", "render_terminal", "trigger_f1", "trigger_map", "trigger_scores",
                "tune_trigger_threshold",),
    "features": ("cache_encoder_features",),
    "gradnorm": ("GradNormWeights",),
    "cards": ("render_model_card",),
    "inference": ("Predictions", "predict", "predict_multitask",),
    "jobs.push": ("push_run", "stage_upload",),
    "losses": ("KD_LOSSES", "cosine_hidden_loss", "gradnorm_loss", "kd_bernoulli_loss", "kd_kl_loss", "kd_mse_loss",
               "register_kd_loss", "supervised_loss", "register_loss", "get_supervised_loss", "SUPERVISED_LOSSES",
               "focal_loss", "label_smoothed_ce_loss", "bce_single_label_loss",),
    "metrics": ("build_compute_metrics", "label_loyalty", "loyalty_metrics", "multi_label_metrics",
                "probability_loyalty", "regression_loyalty", "regression_metrics", "single_label_metrics",
                "tune_threshold",),
    "models": ("MultiTaskModel", "MultiTaskModelConfig", "PooledClassifier", "PooledClassifierConfig",
               "build_classifier", "build_multitask_model", "load_classifier", "init_student_from_teacher",
               "prune_vocabulary",),
    "quality_weights": ("add_quality_weights", "add_translation_disagreement", "minmax_quality", "quality_weights",
                        "translation_disagreement",),
    "schedules": ("alpha_at_step",),
    "teachers": ("cache_teacher_logits", "check_teacher_label_space", "teacher_logits_from_column"),
    "trainers": ("ConsistencyDistillationConfig", "ConsistencyDistillationTrainer", "DistillationConfig",
                 "DistillationTrainer", "EmotionConfig", "EmotionTrainer", "MultiTaskConfig", "MultiTaskTrainer",
                 "GenerativeConfig", "GenerativeTrainer", "PretrainingDistillationConfig",
                 "PretrainingDistillationTrainer",),
    "generative": ("PromptFormat", "build_decoder", "load_decoder_tokenizer", "load_generative",
                   "tokenize_prompt_completion", "label_scores", "generate_labels",),
    "translate": ("detect_languages", "translate_column", "translate_texts",),
    "zoo": ("materialize", "resolve_model",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None and name.endswith(("Trainer", "Config")):  # a method added to hf_emo.trainers only
        module = "trainers" if name in getattr(importlib.import_module(".trainers", __name__), "__all__", ()) else None
    if module is None:
        raise AttributeError(f"module 'hf_emo' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static analysers and IDEs see every name
    from .data import (TASK_SAMPLERS, TASKS, DataError, MixedTaskCollator, MultiTaskBatchSampler, MultiTaskDataset,
                       PairedDataCollator,
                       TaskSpec, load_local, load_task, tokenize_teacher_side)
    from .callbacks import EarlyStoppingInMemory
    from .ensemble import ensemble_probabilities, evaluate_ensemble
    from .explain import render_html, render_terminal, trigger_f1, trigger_map, trigger_scores, tune_trigger_threshold
    from .features import cache_encoder_features
    from .gradnorm import GradNormWeights
    from .cards import render_model_card
    from .inference import Predictions, predict, predict_multitask
    from .jobs.push import push_run, stage_upload
    from .losses import (KD_LOSSES, cosine_hidden_loss, gradnorm_loss, kd_bernoulli_loss, kd_kl_loss, kd_mse_loss,
                         register_kd_loss, supervised_loss, register_loss, get_supervised_loss, SUPERVISED_LOSSES,
                         focal_loss, label_smoothed_ce_loss, bce_single_label_loss)
    from .metrics import (build_compute_metrics, label_loyalty, loyalty_metrics, multi_label_metrics,
                          probability_loyalty, regression_loyalty, regression_metrics, single_label_metrics,
                          tune_threshold)
    from .models import (MultiTaskModel, MultiTaskModelConfig, PooledClassifier, PooledClassifierConfig,
                         build_classifier, build_multitask_model, init_student_from_teacher, load_classifier,
                         prune_vocabulary)
    from .quality_weights import (add_quality_weights, add_translation_disagreement, minmax_quality, quality_weights,
                                  translation_disagreement)
    from .schedules import alpha_at_step
    from .teachers import cache_teacher_logits, check_teacher_label_space, teacher_logits_from_column
    from .trainers import (ConsistencyDistillationConfig, ConsistencyDistillationTrainer, DistillationConfig,
                           DistillationTrainer, EmotionConfig, EmotionTrainer, GenerativeConfig,
                           GenerativeTrainer, MultiTaskConfig, MultiTaskTrainer, PretrainingDistillationConfig,
                           PretrainingDistillationTrainer)
    from .generative import (PromptFormat, build_decoder, generate_labels, label_scores, load_decoder_tokenizer,
                             load_generative, tokenize_prompt_completion)
    from .translate import detect_languages, translate_column, translate_texts
    from .zoo import materialize, resolve_model
