"""``load_local``: a user's own files, any label space, and clear errors that name file, row and column."""

import json

import pytest

from hf_emo.data import DataError, load_local


def _csv(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_single_column_single_label_infers_sorted_names(tmp_path):
    f = _csv(tmp_path / "a.csv", 'text,emotion\nI am happy,joy\nso sad,sadness\n"two\nlines",anger\n')
    dd = load_local(f, text_column="text", label_columns="emotion", problem_type="single_label")
    assert dd.task_spec.label_names == ("anger", "joy", "sadness")
    assert dd["train"]["labels"] == [1, 2, 0]
    assert dd["train"][2]["text"] == "two\nlines"


def test_multi_label_with_separator(tmp_path):
    f = _csv(tmp_path / "a.tsv", "txt\tlab\nhello\tjoy|trust\nbye\tfear\n")
    dd = load_local({"train": f}, text_column="txt", label_columns="lab", problem_type="multi_label", label_sep="|")
    assert dd.task_spec.label_names == ("fear", "joy", "trust")
    assert dd["train"]["labels"] == [[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]


def test_binary_columns_multi_label_and_regression(tmp_path):
    f = _csv(tmp_path / "m.csv", "text,joy,fear\na,1,0\nb,1,1\n")
    dd = load_local(f, text_column="text", label_columns=["joy", "fear"], problem_type="multi_label")
    assert dd.task_spec.label_names == ("joy", "fear") and dd["train"]["labels"] == [[1, 0], [1, 1]]
    g = tmp_path / "r.jsonl"
    g.write_text("\n".join(json.dumps({"t": f"s{i}", "V": 1.5 + i, "A": 3.0}) for i in range(3)))
    dd = load_local(str(g), text_column="t", label_columns=["V", "A"], problem_type="regression")
    assert dd["train"]["labels"][1] == [2.5, 3.0]


def test_new_label_space_trains_nothing_else_needed(tmp_path):
    f = _csv(tmp_path / "x.csv", "text,y\nnice,awe\nwow,awe\nugh,disgust\n")
    dd = load_local(f, text_column="text", label_columns="y", problem_type="single_label")
    assert dd.task_spec.num_labels == 2 and dd.task_spec.name == "custom"


@pytest.mark.parametrize(
    "content,kwargs,match,row,column",
    [
        ("text,y\nhi,joy\n,joy\n", {}, "empty text", 3, "text"),
        ("text,y\nhi,joy\nhello,rage\n", {"label_names": ["joy"]}, "unknown label 'rage'", 3, "y"),
        ("text,z\nhi,joy\n", {}, "missing column", None, None),
    ],
)
def test_bad_single_label_files(tmp_path, content, kwargs, match, row, column):
    f = _csv(tmp_path / "bad.csv", content)
    with pytest.raises(DataError, match=match) as e:
        load_local(f, text_column="text", label_columns="y", problem_type="single_label", **kwargs)
    assert "bad.csv" in str(e.value)
    assert e.value.row == row and e.value.column == column


def test_nan_and_wrong_length(tmp_path):
    f = _csv(tmp_path / "n.csv", "text,V,A\na,1.0,2.0\nb,,3.0\n")
    with pytest.raises(DataError, match="NaN") as e:
        load_local(f, text_column="text", label_columns=["V", "A"], problem_type="regression")
    assert e.value.row == 3 and e.value.column == "V"
    g = tmp_path / "w.jsonl"
    g.write_text(json.dumps({"text": "a", "labels": [1, 0, 1]}) + "\n")
    from hf_emo.data import TaskSpec
    from hf_emo.data.build import rows_to_dataset

    spec = TaskSpec("t", "multi_label", ("a", "b"), "en")
    with pytest.raises(DataError, match="length 3, expected 2"):
        rows_to_dataset([{"text": "a", "labels": [1, 0, 1]}], spec, file=str(g))


def test_bad_problem_type(tmp_path):
    f = _csv(tmp_path / "a.csv", "text,y\na,b\n")
    with pytest.raises(ValueError, match="problem_type"):
        load_local(f, text_column="text", label_columns="y", problem_type="ordinal")


def test_numeric_labels_keep_their_numeric_order(tmp_path):
    """Integer labels were sorted as strings ('10' < '2'), so class 2 was saved as '10' (issue 37)."""
    p = tmp_path / "t.csv"
    p.write_text("text,y\n" + "".join(f"text {i},{y}\n" for i, y in enumerate([2, 10, 1, 2, 10, 1])), encoding="utf-8")
    dd = load_local({"train": str(p)}, text_column="text", label_columns="y", problem_type="single_label")
    assert dd.task_spec.label_names == ("1", "2", "10")
    assert dd["train"]["labels"] == [1, 2, 0, 1, 2, 0]


def test_a_label_sep_that_splits_nothing_names_the_separator_the_values_use(tmp_path):
    """label_sep ';' on values joined by ',' made every combination its own class with rc 0 (issue 37)."""
    p = tmp_path / "t.csv"
    p.write_text('text,y\na,"joy,anger"\nb,joy\nc,"anger,fear"\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"label_sep ';' splits no label value, but values such as 'joy,anger' "
                                        r"contain ',': pass label_sep=','"):  # fmt: skip
        load_local({"train": str(p)}, text_column="text", label_columns="y", problem_type="multi_label",
                   label_sep=";")  # fmt: skip
    dd = load_local({"train": str(p)}, text_column="text", label_columns="y", problem_type="multi_label",
                    label_sep=",")  # fmt: skip
    assert dd.task_spec.label_names == ("anger", "fear", "joy")
