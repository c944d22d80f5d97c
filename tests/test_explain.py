"""Zero-shot trigger words (paper 001 §3.4): scores, token-level F1, MAP, threshold tuning and rendering."""

import numpy as np
import pytest
import torch

from hf_emo.explain import (
    render_html,
    render_terminal,
    split_words,
    trigger_f1,
    trigger_map,
    trigger_scores,
    tune_trigger_threshold,
)
from tests.conftest import tiny_tokenizer
from tests.test_emotion_trainer import SPECS, tiny_model

SCORES = [[0.9, 0.1, 0.5], [0.2, 0.8], [0.3, 0.4, 0.6, 0.1]]
GOLD = [[1, 0, 0], [0, 1], [0, 0, 1, 1]]


def test_trigger_f1_counts_every_word():
    m = trigger_f1(SCORES, GOLD, 0.5)  # predicted: 0.9, 0.5, 0.8, 0.6 -> tp 3 of 4 predicted, 3 of 4 gold
    assert m == pytest.approx({"precision": 0.75, "recall": 0.75, "f1": 0.75})
    assert trigger_f1(SCORES, GOLD, 0.95)["f1"] == 0.0
    with pytest.raises(ValueError, match="text 1: 2 scored words but 3 gold"):
        trigger_f1(SCORES, [GOLD[0], [0, 1, 0], GOLD[2]], 0.5)


def test_trigger_map_is_the_mean_per_text_average_precision():
    # text 1: AP 1; text 2: AP 1; text 3: ranked 0.6(+) 0.4 0.3 0.1(+) -> (1/1 + 2/4) / 2 = 0.75
    assert trigger_map(SCORES, GOLD) == pytest.approx((1 + 1 + 0.75) / 3)
    assert trigger_map([[0.1, 0.2]], [[0, 0]]) == 0.0  # no gold trigger: skipped


def test_threshold_tuning_finds_the_best_f1():
    t, f1 = tune_trigger_threshold(SCORES, GOLD)
    grid = {x: trigger_f1(SCORES, GOLD, x)["f1"] for x in np.linspace(0, 1, 101)}
    assert f1 == pytest.approx(max(grid.values()))
    assert trigger_f1(SCORES, GOLD, t)["f1"] == pytest.approx(f1)


def test_word_scores_are_the_cosine_to_the_first_token():
    spec = SPECS["single_label"]
    model, tok = tiny_model(spec, seed=4), tiny_tokenizer()
    (ws,) = trigger_scores(model, tok, ["happy sad, day!"], text_prefix="")
    assert ws.words == ["happy", "sad", ",", "day", "!"]
    enc = tok(["happy sad, day!"], return_tensors="pt")
    with torch.no_grad():
        h = model(**enc, output_hidden_states=True).hidden_states[-1][0]
    cos = torch.nn.functional.cosine_similarity(h[:1], h, dim=-1)
    assert np.allclose(ws.scores, cos[1:6].numpy(), atol=1e-6)  # one token per word here; [CLS], [SEP] skipped


def test_prefix_tokens_are_not_scored_and_batches_agree():
    spec = SPECS["multi_label"]
    model, tok = tiny_model(spec, seed=4), tiny_tokenizer()
    model.config.text_prefix = "calm news "
    texts = ["happy day", "i hate the market today very much", "fear"]
    one = [trigger_scores(model, tok, [t])[0] for t in texts]
    many = trigger_scores(model, tok, texts, batch_size=3)
    for a, b in zip(one, many):
        assert a.words == b.words and np.allclose(a.scores, b.scores, atol=1e-5)
    assert many[0].words == ["happy", "day"] and all(-1 <= s <= 1 for it in many for s in it.scores)


def test_rendering_marks_the_triggers():
    text = "I love <this> day"
    words, spans = split_words(text)
    from hf_emo.explain import WordScores

    item = WordScores(text, words, spans, [0.1, 0.9, 0.0, 0.2, 0.0, 0.7])
    assert render_terminal(item, 0.5, color=False) == "I [love] <this> [day]"
    assert "\x1b[48;5;" in render_terminal(item, 0.5, color=True)
    page = render_html([item], 0.5, labels=["joy"])
    assert page.count('class="w trig"') == 2 and "&lt;" in page and 'title="0.900"' in page
    assert item.triggers(0.5) == ["love", "day"]


def test_explain_cli(tmp_path, capsys):
    from hf_emo.cli import main

    spec = SPECS["multi_label"]
    model, tok = tiny_model(spec, seed=4), tiny_tokenizer()
    model.config.hf_emo_task = spec.to_dict()
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    html_path = tmp_path / "x.html"
    assert (
        main(
            [
                "explain",
                str(tmp_path / "m"),
                "happy sad day",
                "i hate news",
                "--threshold",
                "-1",
                "--html",
                str(html_path),
                "--no-color",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "[happy] [sad] [day]" in out and "[i] [hate] [news]" in out
    assert html_path.read_text().count('class="w trig"') == 6
