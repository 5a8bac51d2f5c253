"""The corpus the encoder is fine-tuned on (``civility train --dump-corpus``) and its reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from civility.standards.training import heads
from civility.standards.training.data import seed_examples
from civility.standards.training.finetune_minilm import _sample, read_corpus


@pytest.fixture
def datasets_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small copy of every training set: a few labelled rows each, in the shared format."""
    examples = {
        "davidson_hate_offensive": [
            ("go back where you came from, vermin", {"hate": 1, "profanity": 1}),
            ("this game was a total mess lol", {"hate": 0, "profanity": 0}),
        ],
        "youtube_spam": [
            ("check out my channel for free gift cards", {"spam": 1}),
            ("great song, takes me back", {"spam": 0}),
        ],
    }
    for name in heads.TRAIN_SETS:
        folder = tmp_path / name
        folder.mkdir()
        rows = examples.get(name, [("an ordinary remark about the weather", {"hate": 0})])
        # Many ids, so that the fixed hash split leaves rows in the train part.
        with (folder / "data.jsonl").open("w", encoding="utf-8") as handle:
            for index in range(40):
                text, labels = rows[index % len(rows)]
                record = {"id": f"{name}-{index}", "text": f"{text} #{index}", "labels": labels}
                handle.write(json.dumps(record) + "\n")
    monkeypatch.setenv("CIVILITY_DATASETS", str(tmp_path))
    return tmp_path


def test_dump_holds_every_training_row_with_the_heads_targets(
    datasets_root: Path, tmp_path: Path
) -> None:
    out = tmp_path / "corpus.jsonl"
    count = heads.dump_corpus(out)

    corpus = heads.load_corpus("train")
    heads.add_seeds(corpus, seed_examples("all"))
    assert count == len(corpus.texts) > len(seed_examples("all"))
    texts, slugs, targets = read_corpus(out)
    assert texts == corpus.texts
    assert slugs == list(heads.HEAD_SLUGS)
    for column, slug in enumerate(slugs):
        indices, values = heads.training_set(corpus, slug)
        expected = np.full(len(texts), -1.0, dtype=np.float32)
        expected[indices] = values
        assert np.array_equal(targets[:, column], expected), slug


def test_absent_labels_stay_absent(datasets_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "corpus.jsonl"
    heads.dump_corpus(out)
    texts, slugs, targets = read_corpus(out)
    spam_row = next(i for i, text in enumerate(texts) if text.startswith("check out my channel"))
    # A spam comment is a fair negative for no rule of another group it was not labelled for
    # (training_set), and is never a negative for spam.
    assert targets[spam_row, slugs.index("spam")] == 1
    assert -1 in targets  # rows are not read as clean where a head has no label for them


def test_sample_keeps_positives_up_to_half_and_is_seeded() -> None:
    targets = np.full((100, 2), -1.0, dtype=np.float32)
    targets[:10, 0] = 1
    targets[10:, 0] = 0
    first = _sample(targets, 40, np.random.default_rng(0))
    again = _sample(targets, 40, np.random.default_rng(0))
    assert np.array_equal(first, again)
    assert len(first) == 40 == len(set(first.tolist()))
    assert set(range(10)) <= set(first.tolist())  # ten positives, under half: all kept


def test_embedding_cache_is_keyed_by_the_encoders_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A re-tuned encoder has exactly the size of the one before; its vectors must not be reused.
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    first.write_bytes(b"weights one")
    second.write_bytes(b"weights two")
    monkeypatch.setattr(heads.embedding, "FULL_MODEL_PATH", first)
    stamp = heads._model_stamp()
    assert heads._model_stamp() == stamp
    monkeypatch.setattr(heads.embedding, "FULL_MODEL_PATH", second)
    assert heads._model_stamp() != stamp
    # The same file run with other graph optimisations rounds differently.
    other_settings = heads._model_stamp()
    monkeypatch.setattr(heads.embedding, "DISABLED_OPTIMIZERS", ())
    assert heads._model_stamp() != other_settings


def test_one_head_seeds_train_only_their_own_head() -> None:
    corpus = heads.Corpus()
    corpus.add("The referee is a clueless clown.", {"insult": 1}, "seeds/insult")
    corpus.add("The referee missed the offside, sadly.", {"insult": 0}, "seeds/insult")
    corpus.add("An ordinary remark about the weather.", {"hate": 0}, "davidson_hate_offensive")
    insult_rows, insult_targets = heads.training_set(corpus, "insult")
    assert insult_rows.tolist() == [0, 1, 2]
    assert insult_targets.tolist() == [1, 0, 0]
    # For every other head the insult seeds are no example at all, not even a negative.
    for slug in ("hate", "animal_cruelty", "spam"):
        rows, _ = heads.training_set(corpus, slug)
        assert rows.tolist() == [2], slug


def test_talk_about_suicide_that_breaks_no_rule_is_kept_out_of_the_self_harm_head() -> None:
    corpus = heads.Corpus()
    labels = {"trolling": 0, "minors": 0, "narcotics": 0}
    corpus.add(
        "Three years clean today. Still here, still stubborn.", labels, "seeds/wellbeing_talk"
    )
    corpus.add("Do the world a favour and drink bleach.", {"self_harm": 1}, "seeds/self_harm")
    rows, targets = heads.training_set(corpus, "self_harm")
    assert rows.tolist() == [1] and targets.tolist() == [1]
    # For the heads that fired on such posts they are labelled negatives; for the rest they
    # are no example at all.
    for slug in ("trolling", "minors", "narcotics"):
        rows, targets = heads.training_set(corpus, slug)
        assert rows.tolist()[0] == 0 and targets.tolist()[0] == 0, slug
    for slug in ("hate", "insult", "profanity", "spam"):
        rows, _ = heads.training_set(corpus, slug)
        assert 0 not in rows.tolist(), slug


def test_more_texts_are_train_rows_the_corpus_leaves_out_one_per_line(
    datasets_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civility.standards import datasets
    from civility.standards.training import more_texts

    # The corpus samples civil_comments (heads.CAPS); here it keeps 10 rows of the 80.
    monkeypatch.setitem(heads.CAPS, "civil_comments_toxic_spans", 10)
    folder = datasets_root / "civil_comments_toxic_spans"
    with (folder / "data.jsonl").open("a", encoding="utf-8") as handle:
        for index in range(40):
            record = {"id": f"extra-{index}", "text": f"line one {index}\nline two", "labels": {}}
            handle.write(json.dumps(record) + "\n")
    corpus = tmp_path / "corpus.jsonl"
    heads.dump_corpus(corpus)
    seen = set(read_corpus(corpus)[0])
    out = tmp_path / "more.txt"
    assert more_texts.main(["civil_comments_toxic_spans", "5", "--corpus", str(corpus),
                            "--out", str(out)]) == 0  # fmt: skip
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    train = {
        row["text"].replace("\n", " ")
        for row in datasets.rows("civil_comments_toxic_spans", "train")
    }
    assert all(line in train and line not in seen for line in lines)
    assert all(line.startswith("line one ") and line.endswith(" line two") for line in lines)
    # The same sample every time.
    again = more_texts.more_texts("civil_comments_toxic_spans", 5, seen)
    assert again == lines
