"""hf_emo: Hugging Face Trainer subclasses for text emotion recognition.

Public API (see README): data (``load_task``, ``load_local``, ``TASKS``, ``TaskSpec``), offline models
(``materialize``), models (``PooledClassifier``, ``build_classifier``, ``MultiTaskModel``), metrics, losses and
trainers (``EmotionTrainer``, ``DistillationTrainer``, ``MultiTaskTrainer``, ``ConsistencyDistillationTrainer``),
cross-lingual building blocks (translation-quality weights, ``translate_column``, ensembles, trigger words).
"""

from .noise import silence_known_noise

silence_known_noise()  # before transformers imports peft, which imports bitsandbytes

from .data import TASK_SAMPLERS, TASKS, DataError, MultiTaskBatchSampler, MultiTaskDataset, PairedDataCollator, \
    TaskSpec, load_local, load_task, tokenize_teacher_side
from .callbacks import EarlyStoppingInMemory
from .ensemble import ensemble_probabilities, evaluate_ensemble
from .explain import render_html, render_terminal, trigger_f1, trigger_map, trigger_scores, tune_trigger_threshold
from .features import cache_encoder_features
from .gradnorm import GradNormWeights
from .cards import render_model_card
from .inference import Predictions, predict, predict_multitask
from .jobs.push import push_run, stage_upload
from .losses import KD_LOSSES, consistency_kd_loss, cosine_hidden_loss, gradnorm_loss, kd_bernoulli_loss, kd_kl_loss, kd_mse_loss, \
    register_kd_loss, supervised_loss
from .metrics import build_compute_metrics, label_loyalty, loyalty_metrics, multi_label_metrics, \
    probability_loyalty, regression_loyalty, regression_metrics, single_label_metrics, tune_threshold
from .models import MultiTaskModel, MultiTaskModelConfig, PooledClassifier, PooledClassifierConfig, build_classifier, \
    build_multitask_model, load_classifier
from .quality_weights import add_quality_weights, add_translation_disagreement, minmax_quality, quality_weights, \
    translation_disagreement
from .schedules import alpha_at_step
from .teachers import cache_teacher_logits, check_teacher_label_space
from .trainers import ConsistencyDistillationConfig, ConsistencyDistillationTrainer, DistillationConfig, \
    DistillationTrainer, EmotionConfig, EmotionTrainer, MultiTaskConfig, MultiTaskTrainer
from .translate import detect_languages, translate_column, translate_texts
from .zoo import materialize, resolve_model

__version__ = "0.1.0"

__all__ = [
    "TASKS", "DataError", "TaskSpec", "load_local", "load_task",
    "supervised_loss", "kd_kl_loss", "kd_bernoulli_loss", "kd_mse_loss", "cosine_hidden_loss", "KD_LOSSES",
    "register_kd_loss", "alpha_at_step",
    "build_compute_metrics", "multi_label_metrics", "regression_metrics", "single_label_metrics", "tune_threshold",
    "label_loyalty", "probability_loyalty", "regression_loyalty", "loyalty_metrics",
    "PooledClassifier", "PooledClassifierConfig", "build_classifier", "load_classifier",
    "EmotionConfig", "EmotionTrainer", "DistillationConfig", "DistillationTrainer",
    "cache_teacher_logits", "check_teacher_label_space", "render_model_card", "stage_upload", "push_run",
    "Predictions", "predict", "predict_multitask",
    "materialize", "resolve_model",
    "MultiTaskModel", "MultiTaskModelConfig", "build_multitask_model", "MultiTaskConfig", "MultiTaskTrainer",
    "MultiTaskDataset", "MultiTaskBatchSampler", "TASK_SAMPLERS", "cache_encoder_features", "GradNormWeights",
    "EarlyStoppingInMemory",
    "gradnorm_loss",
    "ConsistencyDistillationConfig", "ConsistencyDistillationTrainer", "consistency_kd_loss", "PairedDataCollator",
    "tokenize_teacher_side", "translation_disagreement", "minmax_quality", "quality_weights",
    "add_translation_disagreement", "add_quality_weights", "translate_texts", "translate_column", "detect_languages",
    "trigger_scores", "trigger_f1", "trigger_map", "tune_trigger_threshold", "render_terminal", "render_html",
    "ensemble_probabilities", "evaluate_ensemble",
]
