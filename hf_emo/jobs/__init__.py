"""Jobs shared by every method: the run pipeline (``pipeline``: ``TrainingJob`` and the method registry), the
training jobs built on it (``train``, ``multitask``, ``staged``, ``consistency``, ``generative``, ``pretraining``;
``methods`` imports and registers them all), ``evaluate``, ``predict`` and ``push``, over the run folder
(``run_folder``) and the record (``record``). Modules are imported where used:
``from hf_emo.jobs.methods import get_method``."""
