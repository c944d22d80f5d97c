"""Train a tiny three-task model; run under `accelerate launch --num_processes 2` (gloo) or as one process.

usage: python multitask_ddp.py OUT_DIR PER_DEVICE_BATCH [LOSS_WEIGHTING]
Writes OUT_DIR/result.pt (rank 0): the final parameters and the evaluation metrics.
"""

import faulthandler
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import mt_dataset, mt_model, mt_specs, tiny_tokenizer  # noqa: E402
from transformers import DataCollatorWithPadding  # noqa: E402

from hf_emo.trainers import MultiTaskConfig, MultiTaskTrainer  # noqa: E402


def main() -> None:
    # A hang (a collective one rank never joins) dumps every thread's stack and exits instead of blocking CI.
    faulthandler.dump_traceback_later(float(os.environ.get("HF_EMO_DDP_TEST_HANG_S", "240")), exit=True)
    out, batch = Path(sys.argv[1]), int(sys.argv[2])
    weighting = sys.argv[3] if len(sys.argv) > 3 else "static"
    tok = tiny_tokenizer()
    train = {s.name: mt_dataset(s, n, i, tok) for i, (s, n) in enumerate(zip(mt_specs(), (24, 32, 16)))}
    ev = {s.name: mt_dataset(s, 8, 10 + i, tok) for i, s in enumerate(mt_specs())}
    args = MultiTaskConfig(
        output_dir=str(out / "run"),
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=4,
        learning_rate=1e-3,
        max_steps=6,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
        task_sampler="round_robin",
        gradient_accumulation_steps=3,
        loss_weighting=weighting,
        gradnorm_lr=0.05,
        task_weights=None if weighting == "gradnorm" else {"vad": 0.5},
    )
    trainer = MultiTaskTrainer(
        mt_model(), args, train_dataset=train, eval_dataset=ev, data_collator=DataCollatorWithPadding(tok)
    )
    trainer.train()
    metrics = trainer.evaluate()
    if trainer.is_world_process_zero():
        params = {n: p.detach().cpu() for n, p in trainer.model.named_parameters()}
        weights = trainer.gradnorm.as_dict() if trainer.gradnorm is not None else {}
        torch.save(
            {"params": params, "metrics": metrics, "world_size": args.world_size, "gradnorm": weights},
            out / "result.pt",
        )
    trainer.accelerator.wait_for_everyone()  # both ranks leave the process group together
    trainer.accelerator.end_training()


if __name__ == "__main__":
    main()
