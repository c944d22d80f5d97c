"""Which ops, kept in fp32, would lift the int8 ONNX export's agreement with the float model? (issue 40, item 2)

    .venv/bin/python bench/int8_variants.py --run runs/deploy_embedded/student_s42 \
        --out bench/results/int8_variants_dair.json

The run is exported once to fused fp32 ONNX (``hf-emo export --quantize none``: its decisions equal PyTorch's), and
that graph is quantised with ``onnxruntime.quantization.quantize_dynamic`` in several ways: as ``hf-emo export
--quantize int8`` does (every op ONNX Runtime quantises, embeddings included), without the embedding gather, with
only the ``MatMul`` ops, per tensor instead of per channel, and with one kind of encoder matrix (attention QKV,
attention output, feed-forward in, feed-forward out) left in fp32. Each variant runs the run's test split and is
compared with the fp32 graph: label agreement, the task metric, size (not speed: ``bench/inference_speed.py
--serving`` times forms), and how close to the decision boundary the flipped texts were under fp32 (top-1 minus
top-2 probability; multi-label: the distance of the flipped label's probability from its threshold).

Dynamic quantisation scales each activation matrix by its range over the whole batch, so a text's int8 label can
depend on its neighbours: each variant also runs the texts one at a time, and the share of texts whose labels are
the same both ways is reported. A Markdown table goes beside the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np


def _kinds(graph) -> dict[str, list[str]]:
    """The fused graph's quantisable nodes by role: attention QKV (fused ``Attention``), attention output, FFN in
    (feeds ``BiasGelu``), FFN out (reads ``BiasGelu``), and the head (``MatMul``/``Gemm`` after the last encoder
    op on the way back from ``logits``)."""
    producer = {o: n for n in graph.node for o in n.output}
    consumers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    gelu = {"BiasGelu", "Gelu", "FastGelu"}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    ffn_out = [n.name for n in matmuls if n.input[0] in producer and producer[n.input[0]].op_type in gelu]
    ffn_in = [n.name for n in matmuls if any(c.op_type in gelu for c in consumers.get(n.output[0], []))]
    encoder_end = {"SkipLayerNormalization", "LayerNormalization", "Attention", "EmbedLayerNormalization"}
    head, frontier, seen = [], ["logits"], set()
    while frontier:
        node = producer.get(frontier.pop())
        if node is None or node.name in seen or node.op_type in encoder_end:
            continue
        seen.add(node.name)
        if node.op_type in ("MatMul", "Gemm"):
            head.append(node.name)
        frontier.extend(node.input)
    attention_out = [n.name for n in matmuls if n.name not in {*ffn_out, *ffn_in, *head}]
    qkv = [n.name for n in graph.node if n.op_type == "Attention"]
    return {"qkv": qkv, "attention_out": attention_out, "ffn_in": ffn_in, "ffn_out": ffn_out, "head": head}


def _margins(spec, logits: np.ndarray, threshold) -> np.ndarray:
    """Per text (multi-label: per text and label) the fp32 distance from the decision boundary."""
    if spec.problem_type == "multi_label":
        return np.abs(1.0 / (1.0 + np.exp(-logits)) - np.asarray(threshold))
    z = logits - logits.max(-1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    top = np.sort(probs, axis=-1)
    return top[:, -1] - top[:, -2]


def markdown(record: dict) -> str:
    """The record as a Markdown table."""
    metric = record["metric"]
    lines = [
        f"int8 variants of {record['run']} ({record['task']} test, {record['test_texts']} texts; fp32 {metric} "
        f"{record['fp32'][metric]:.4f}), {record['machine']}, {record['date']}",
        "",
        f"| variant | agreement with fp32 | {metric} | difference | MB | flipped decisions "
        "| median fp32 margin of a flip | same labels at batch 1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in record["variants"]:
        lines.append(
            f"| {r['variant']} | {100 * r['agreement']:.2f} % | {r[metric]:.4f} | {r['metric_difference']:+.4f} "
            f"| {r['megabytes']} | {r['flipped_decisions']} | {r['flipped_median_fp32_margin']} "
            f"| {100 * r['same_labels_at_batch_1']:.2f} % |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True, help="a trained run folder (single- or multi-label)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    args = p.parse_args()

    import onnx
    import onnxruntime
    import torch
    import transformers

    from hf_emo.data import load_task
    from hf_emo.export import ONNX_FILE, export_classifier, load_exported, quantize_onnx_int8
    from hf_emo.inference import decision_threshold, model_task_spec
    from hf_emo.jobs.export import agreement
    from hf_emo.metrics import decisions

    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="hf_emo_int8_"))
    export_classifier(args.run, work / "fp32", format="onnx", quantize="none")
    model = load_exported(work / "fp32", threads=args.threads)
    spec = model_task_spec(model)
    threshold = decision_threshold(getattr(model.config, "hf_emo_threshold", None), spec.num_labels)
    test = load_task(spec.name, os.environ.get("HF_EMO_DATA_DIR"))["test"]
    texts, labels = list(test["text"]), np.asarray(test["labels"])
    reference = model.logits(texts, args.batch_size, desc="fp32")
    margins = _margins(spec, reference, threshold)
    float_graph = work / "fp32" / ONNX_FILE
    kinds = _kinds(onnx.load(str(float_graph)).graph)
    every = ["MatMul", "Attention", "Gather", "EmbedLayerNormalization", "Gemm"]
    encoder = ["MatMul", "Attention"]
    variants = {
        "as hf-emo export (every op)": dict(op_types_to_quantize=every),
        "embeddings in fp32": dict(op_types_to_quantize=encoder),
        "embeddings and head in fp32": dict(op_types_to_quantize=encoder, nodes_to_exclude=kinds["head"]),
        "MatMul only (QKV, embeddings, head in fp32)": dict(
            op_types_to_quantize=["MatMul"], nodes_to_exclude=kinds["head"]
        ),
        "per tensor, embeddings and head in fp32": dict(
            op_types_to_quantize=encoder, nodes_to_exclude=kinds["head"], per_channel=False
        ),
        **{
            f"{kind} also in fp32": dict(op_types_to_quantize=encoder, nodes_to_exclude=kinds["head"] + kinds[kind])
            for kind in ("qkv", "attention_out", "ffn_in", "ffn_out")
        },
    }
    rows = []
    for name, options in variants.items():
        graph = work / "variant.onnx"
        quantize_onnx_int8(float_graph, graph, **options)
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = args.threads
        model.session = onnxruntime.InferenceSession(str(graph), session_options, providers=["CPUExecutionProvider"])
        logits = model.logits(texts, args.batch_size, desc=name)
        alone = model.logits(texts, 1, desc=f"{name}, batch 1")  # no neighbours, no padding
        check = agreement(spec, reference, logits, labels, threshold)
        flipped = decisions(spec, reference, threshold) != decisions(spec, logits, threshold)
        flip_margins = margins[flipped]
        same_alone = decisions(spec, logits, threshold) == decisions(spec, alone, threshold)
        rows.append(
            {
                "variant": name,
                "fp32_nodes": len(options.get("nodes_to_exclude", [])),
                "agreement": check["agreement"],
                spec.metric: round(check["exported"][spec.metric], 4),
                "metric_difference": round(check["metric_difference"], 4),
                "megabytes": round(graph.stat().st_size / 1e6, 1),
                "same_labels_at_batch_1": round(float(same_alone.reshape(len(texts), -1).all(-1).mean()), 6),
                "flipped_decisions": int(flipped.sum()),
                "flipped_median_fp32_margin": round(float(np.median(flip_margins)), 4) if flip_margins.size else None,
                "flipped_max_fp32_margin": round(float(flip_margins.max()), 4) if flip_margins.size else None,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    record = {
        "command": " ".join(["python", "bench/int8_variants.py", *sys.argv[1:]]),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU cores ({platform.machine()}), {args.threads} threads",
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "run": Path(args.run).name,
        "task": spec.name,
        "metric": spec.metric,
        "test_texts": len(texts),
        "fp32": {spec.metric: round(float(check["pytorch"][spec.metric]), 4)},
        "share_of_fp32_decisions_within_0.1_of_the_boundary": round(float(np.mean(margins < 0.1)), 4),
        "nodes": {kind: len(names) for kind, names in kinds.items()},
        "variants": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    text = markdown(record)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
