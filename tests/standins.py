"""Tiny random stand-ins of the papers' models, of the same architecture and tokenizer family, for running the
paper profiles here (``tests/test_paper_profiles.py``, ``bench/gpu_smoke.sh``):

    python tests/standins.py DIR   # writes DIR/<name>/ for every model and DIR/model_map.json

Point ``HF_EMO_HUB_MAP`` at ``DIR/hub_map.json`` and every Hub id a recipe names loads its stand-in: a 2-layer,
hidden-32 model built from a config, with a tokenizer of the same kind (cased or uncased WordPiece, SentencePiece
Unigram, byte-level BPE) trained in a second on real Romanian and English texts of the data folder; a Hub corpus
(the Romanian Wikipedia of paper 003's pretraining) is a text file of those Romanian texts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Hub id -> (stand-in folder, architecture)
STANDINS = {
    "dumitrescustefan/bert-base-romanian-cased-v1": ("bert-cased", "bert-cased"),
    "bert-base-uncased": ("bert-uncased", "bert-uncased"),
    "distilbert-base-uncased": ("distilbert-uncased", "distilbert"),
    "xlm-roberta-large": ("xlm-roberta", "xlm-roberta"),
    "intfloat/multilingual-e5-small": ("xlm-roberta", "xlm-roberta"),  # E5: BERT layers, XLM-R's vocabulary
    "roberta-large": ("roberta", "roberta"),
    "sentence-transformers/all-mpnet-base-v2": ("mpnet", "mpnet"),
    "sentence-transformers/all-MiniLM-L6-v2": ("bert-uncased", "bert-uncased"),  # MiniLM: BERT layers, uncased
    "EleutherAI/pythia-410m": ("gpt-neox", "gpt-neox"),
    "bigscience/bloomz-7b1": ("bloom", "bloom"),
    "bigscience/bloom-7b1": ("bloom", "bloom"),
}
CORPORA = {"wikimedia/wikipedia:20231101.ro": "romanian_corpus.txt"}  # Hub data set (id:config) -> stand-in file
SIZE = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
# decoders are trained in 4 bits by the paper profiles: bitsandbytes' CPU kernel for evaluation packs each weight row
# in blocks of 64 inputs, so a decoder stand-in needs a width of 64 or more (real models have thousands)
DECODER_SIZE = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256)


def _corpus() -> list[str]:
    """Texts of the tasks the recipes use (Romanian and English), plus the words the prompts and answers need."""
    from hf_emo.data import TASKS, default_data_dir, load_task

    texts: list[str] = []
    if default_data_dir() is not None:
        for task in ("redv2", "redv1", "laroseda", "dair_emotion", "ag_news", "sst2", "xed_en_ro", "emobank"):
            if task in TASKS:
                try:
                    texts += list(load_task(task)["train"].select(range(300))["text"])
                except Exception:  # noqa: BLE001  (a missing data set only makes the vocabulary smaller)
                    continue
    prompt_words = "Below is an instruction that describes a task. Write a response Tweet Response Instruction"
    texts += [prompt_words, *(["yes no, yes: no: " * 20] * 50)]
    for task in TASKS.values():
        texts.append(" ".join(task.label_names) + ", " + ": yes, ".join(task.label_names) + ": no")
    return texts


# MPNet's WordPiece vocabulary wraps texts in RoBERTa's markers
SPECIAL_MPNET = dict(pad_token="<pad>", unk_token="[UNK]", cls_token="<s>", sep_token="</s>", mask_token="<mask>")


def _wordpiece(folder: Path, corpus: list[str], lowercase: bool, cls, special: dict[str, str] | None = None):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    special = special or dict(pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
                              mask_token="[MASK]")  # fmt: skip
    tok = Tokenizer(models.WordPiece(unk_token=special["unk_token"]))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    names = [special[k] for k in ("pad_token", "unk_token", "cls_token", "sep_token", "mask_token")]
    tok.train_from_iterator(corpus, trainers.WordPieceTrainer(vocab_size=800, special_tokens=names))
    first, last = special["cls_token"], special["sep_token"]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{first} $A {last}", pair=f"{first} $A {last} $B {last}",
        special_tokens=[(first, tok.token_to_id(first)), (last, tok.token_to_id(last))],
    )  # fmt: skip
    fast = cls(tokenizer_object=tok, **special, do_lower_case=lowercase, model_max_length=512)
    fast.save_pretrained(folder)
    return fast


def _roberta_like(folder: Path, corpus: list[str], unigram: bool, cls):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    special = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    if unigram:  # XLM-R: SentencePiece Unigram with the metaspace
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=800, special_tokens=special, unk_token="<unk>")
    else:  # RoBERTa: byte-level BPE
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=800, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))],
    )
    fast = cls(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>", cls_token="<s>", unk_token="<unk>",
        pad_token="<pad>", mask_token="<mask>", model_max_length=512,
    )  # fmt: skip
    fast.save_pretrained(folder)
    return fast


def _decoder_bpe(folder: Path, corpus: list[str], cls, special: dict[str, str]):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    names = list(dict.fromkeys(special.values()))
    trainer = trainers.BpeTrainer(
        vocab_size=800, special_tokens=names, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(corpus, trainer)
    fast = cls(tokenizer_object=tok, model_max_length=2048, **special)
    fast.save_pretrained(folder)
    return fast


def build(kind: str, folder: Path, corpus: list[str]) -> None:
    """Write the stand-in ``kind`` (a key of the architectures above) into ``folder``."""
    import torch
    import transformers as tf

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    if kind in ("bert-cased", "bert-uncased"):
        tok = _wordpiece(folder, corpus, kind == "bert-uncased", tf.BertTokenizerFast)
        config = tf.BertConfig(vocab_size=len(tok), max_position_embeddings=512, **SIZE)
        tf.BertForMaskedLM(config).save_pretrained(folder)  # with its MLM head: pretraining distillation's teacher
    elif kind == "mpnet":
        tok = _wordpiece(folder, corpus, True, tf.MPNetTokenizerFast, SPECIAL_MPNET)
        config = tf.MPNetConfig(vocab_size=len(tok), max_position_embeddings=514, pad_token_id=tok.pad_token_id, **SIZE)
        tf.MPNetForMaskedLM(config).save_pretrained(folder)
    elif kind == "distilbert":
        tok = _wordpiece(folder, corpus, True, tf.DistilBertTokenizerFast)
        config = tf.DistilBertConfig(
            vocab_size=len(tok), dim=32, n_layers=2, n_heads=2, hidden_dim=64, max_position_embeddings=512
        )
        tf.DistilBertForMaskedLM(config).save_pretrained(folder)
    elif kind in ("xlm-roberta", "roberta"):
        unigram = kind == "xlm-roberta"
        cls = tf.XLMRobertaTokenizerFast if unigram else tf.RobertaTokenizerFast
        tok = _roberta_like(folder, corpus, unigram, cls)
        config_cls = tf.XLMRobertaConfig if unigram else tf.RobertaConfig
        config = config_cls(vocab_size=len(tok), max_position_embeddings=514, pad_token_id=tok.pad_token_id, **SIZE)
        (tf.XLMRobertaForMaskedLM if unigram else tf.RobertaForMaskedLM)(config).save_pretrained(folder)
    elif kind == "gpt-neox":
        tok = _decoder_bpe(
            folder, corpus, tf.GPTNeoXTokenizerFast,
            {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"},
        )  # fmt: skip
        config = tf.GPTNeoXConfig(
            vocab_size=len(tok), max_position_embeddings=2048, bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id, **DECODER_SIZE,
        )  # fmt: skip
        tf.GPTNeoXForCausalLM(config).save_pretrained(folder)
    elif kind == "bloom":
        tok = _decoder_bpe(
            folder, corpus, tf.PreTrainedTokenizerFast,
            {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"},
        )  # fmt: skip
        config = tf.BloomConfig(
            vocab_size=len(tok), hidden_size=64, n_layer=2, n_head=2, bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        )  # fmt: skip
        tf.BloomForCausalLM(config).save_pretrained(folder)
    else:
        raise ValueError(f"unknown stand-in {kind!r}")


def build_all(root: str | Path) -> Path:
    """Every stand-in under ``root`` and ``root/hub_map.json`` (for ``HF_EMO_HUB_MAP``); returns the map's path.
    Built once: a folder that already holds a model is kept."""
    root = Path(root)
    corpus = None
    for hub_id, (name, kind) in STANDINS.items():
        if not (root / name / "config.json").is_file():
            corpus = corpus or _corpus()
            build(kind, root / name, corpus)
    for name in CORPORA.values():
        if not (root / name).is_file():
            from hf_emo.data import load_task

            texts = list(load_task("redv2")["train"].select(range(400))["text"])
            (root / name).write_text("\n".join(t.replace("\n", " ") for t in texts) + "\n", encoding="utf-8")
    path = root / "hub_map.json"
    mapping = {hub_id: name for hub_id, (name, _) in STANDINS.items()} | CORPORA
    path.write_text(json.dumps(mapping, indent=1), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(build_all(sys.argv[1] if len(sys.argv) > 1 else "standins"))
