"""``hf-emo export``: a run's classifier for serving on a CPU (ONNX Runtime, fp32 or int8; or PyTorch int8)."""

from __future__ import annotations

import argparse
import json

from . import positive_int

HELP = "export a classifier for serving: ONNX Runtime (fp32 / int8) or PyTorch int8"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..export import FORMATS, QUANTIZATIONS

    p.add_argument("model", help="a run folder (or any saved classifier: a local folder or a Hub id)")
    p.add_argument("--format", choices=FORMATS, default="onnx", help="onnx needs the extra: pip install 'hf_emo[onnx]'")
    p.add_argument(
        "--quantize", choices=QUANTIZATIONS, default="none", help="int8: dynamic quantisation of the weights"
    )
    p.add_argument("--output_dir", default=None, help="default: <model>_<format>[_int8] beside the model")
    p.add_argument("--task", default=None, help="a multi-task model: the task whose head is exported")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in output_dir")
    p.add_argument(
        "--optimize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fuse the attention, embedding and layer-norm subgraphs with ONNX Runtime's transformer optimizer",
    )
    p.add_argument(
        "--check_split",
        default="test",
        help="compare the export with the PyTorch model on this split of the model's task ('none': skip)",
    )
    p.add_argument("--batch-size", type=positive_int, default=32)
    p.add_argument("--data_dir", default=None)


def run(args: argparse.Namespace) -> int:
    from ..jobs.export import export_run

    folder, manifest = export_run(
        args.model,
        args.output_dir,
        format=args.format,
        quantize=args.quantize,
        task=args.task,
        overwrite=args.overwrite,
        optimize=args.optimize,
        check_split=None if args.check_split == "none" else args.check_split,
        batch_size=args.batch_size,
        data_dir=args.data_dir,
    )
    size = manifest["bytes"] / 1e6
    print(f"exported {args.model} -> {folder} ({manifest['format']}, quantize {manifest['quantize']}, {size:.1f} MB)")
    check = manifest.get("check")
    if check:
        line = (
            f"{check['split']} split of {check['task']}: {100 * check['agreement']:.2f} % of {check['texts']} texts "
            f"get the PyTorch model's labels"
        )
        if "metric" in check:
            m = check["metric"]
            line += (
                f"; {m} {100 * check['pytorch'][m]:.2f} (PyTorch) -> {100 * check['exported'][m]:.2f} (export), "
                f"difference {100 * check['metric_difference']:+.2f}"
            )
        print(line)
    if args.format == "onnx":
        print(json.dumps({"fusions": manifest.get("fusions", {})}))
    return 0
