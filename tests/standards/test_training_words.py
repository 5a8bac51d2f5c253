"""The word model read by the hate head (learned_model.WordModel) and the heads file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from civility.standards.detectors import learned_model
from civility.standards.detectors.learned_model import (
    CUE_NAMES,
    WordModel,
    cue_vector,
    load_word_model,
    word_cue,
    word_features,
    word_tokens,
)
from civility.standards.text import skeleton


def test_word_tokens_drop_noise_and_see_through_disguises() -> None:
    tokens = word_tokens(
        skeleton("RT @someone: you f4gg0ts are sooooo done http://x.example/a").text
    )
    assert tokens == ["you", "faggots", "are", "soo", "done"]


def test_word_features_are_unigrams_and_bigrams_once() -> None:
    assert word_features("go go home") == ["go", "go go", "go home", "home"]


def test_logits_match_a_normalised_binary_row() -> None:
    model = WordModel(
        slugs=("hate",),
        vocabulary={"a": 0, "b": 1, "c": 2},
        weights=np.array([[1.0, 2.0, -4.0]], dtype=np.float32),
        bias=np.array([0.5]),
    )
    # "a" and "b" present (the unknown word is not part of the row): (1 + 2) / sqrt(2) + 0.5
    assert model.logits(["a", "b", "zzz"])[0] == pytest.approx(3 / np.sqrt(2) + 0.5)
    assert model.logits(["zzz"])[0] == pytest.approx(0.5)
    assert word_cue(np.array([-20.0, 2.0, 20.0])).tolist() == [-2.0, 0.5, 2.0]


def test_save_and_load_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = WordModel(
        slugs=("hate",),
        vocabulary={"go home": 0, "vermin": 1, "élan": 2},
        weights=np.array([[0.25, 1.5, -0.5]], dtype=np.float32),
        bias=np.array([-1.0]),
    )
    path = tmp_path / "words.npz"
    model.save(path)
    monkeypatch.setattr(learned_model, "WORDS_PATH", path)
    learned_model.reset_word_model()
    try:
        loaded = load_word_model()
        assert loaded is not None
        assert loaded.vocabulary == model.vocabulary
        features = ["go home", "vermin", "élan"]
        assert loaded.logits(features) == pytest.approx(model.logits(features), abs=1e-3)
    finally:
        learned_model.reset_word_model()


def test_shipped_word_model_reads_hate_words() -> None:
    model = load_word_model()
    assert model is not None and model.slugs == ("hate",)
    column = CUE_NAMES.index("hate:words")
    hateful = cue_vector("send those filthy immigrants back, they are vermin")[column]
    neutral = cue_vector("the council meeting about the new bridge is on tuesday")[column]
    assert hateful > neutral


def test_heads_trained_before_a_cue_existed_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with np.load(learned_model.HEADS_PATH) as data:
        arrays = {key: data[key] for key in data.files}
    names = [str(n) for n in arrays["cue_names"]]
    keep = [i for i, name in enumerate(names) if name != "hate:words"]
    arrays["cue_names"] = arrays["cue_names"][keep]
    arrays["cue_weights"] = arrays["cue_weights"][:, keep]
    old = tmp_path / "heads.npz"
    np.savez(old, **arrays)
    monkeypatch.setattr(learned_model, "HEADS_PATH", old)
    monkeypatch.setattr(learned_model, "_heads", None)
    heads = learned_model.load_heads()
    assert heads.cue_weights.shape[1] == len(CUE_NAMES)
    assert not heads.cue_weights[:, CUE_NAMES.index("hate:words")].any()
    slur = CUE_NAMES.index("hate:slur")
    assert heads.cue_weights[:, slur].tolist() == arrays["cue_weights"][:, slur].tolist()


def test_heads_with_an_unknown_cue_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with np.load(learned_model.HEADS_PATH) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["cue_names"] = np.array([*arrays["cue_names"][:-1], "hate:gone"])
    bad = tmp_path / "heads.npz"
    np.savez(bad, **arrays)
    monkeypatch.setattr(learned_model, "HEADS_PATH", bad)
    monkeypatch.setattr(learned_model, "_heads", None)
    with pytest.raises(RuntimeError, match="hate:gone"):
        learned_model.load_heads()
