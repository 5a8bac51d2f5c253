"""Where a head's calibration puts its queue and reject points (``heads.calibration_knots``)."""

from __future__ import annotations

import numpy as np

from civility.standards.training import heads


def _scores(positives: int, negatives: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Cross-validated-like raw scores: positives centred higher than negatives, overlapping."""
    rng = np.random.default_rng(seed)
    pos = 1 / (1 + np.exp(-rng.normal(2.0, 1.5, positives)))
    neg = 1 / (1 + np.exp(-rng.normal(-2.0, 1.5, negatives)))
    return np.concatenate([pos, neg]), np.concatenate([np.ones(positives), np.zeros(negatives)])


def _precision_at_a_tenth_positives(scores: np.ndarray, y: np.ndarray, threshold: float) -> float:
    """Precision over ``threshold`` where the rows are half positives, counted as if a tenth
    of them were."""
    over = scores >= threshold
    true = (over & (y == 1)).sum() * (0.1 / 0.5)
    false = (over & (y == 0)).sum() * (0.9 / 0.5)
    return float(true / (true + false))


def test_a_head_trained_mostly_on_positives_is_calibrated_for_mostly_clean_comments() -> None:
    scores, y = _scores(5000, 5000)
    queue, reject = heads.calibration_knots(scores, y)
    queue_at_prior, reject_at_prior = heads.calibration_knots(scores, y, prior=0.1)

    assert queue_at_prior > queue
    assert reject_at_prior > reject
    # At a tenth positives, the reject point keeps 95% precision; the unweighted one does not.
    assert _precision_at_a_tenth_positives(scores, y, reject_at_prior) >= 0.95
    assert _precision_at_a_tenth_positives(scores, y, reject) < 0.95


def test_a_head_with_fewer_positives_than_the_prior_keeps_its_own_share() -> None:
    scores, y = _scores(300, 9700)
    assert heads.calibration_knots(scores, y, prior=0.1) == heads.calibration_knots(scores, y)


def test_length_balanced_weights_make_length_say_nothing_of_the_label() -> None:
    corpus = heads.Corpus()
    # Long texts are mostly insults, short ones mostly clean: the shortcut the insult head had.
    rows = [("word " * 100, 1.0)] * 30 + [("word " * 100, 0.0)] * 10
    rows += [("word " * 5, 1.0)] * 5 + [("word " * 5, 0.0)] * 95
    for text, label in rows:
        corpus.add(text, {"insult": label}, "test")
    index = np.arange(len(rows))
    y = np.array([int(label) for _, label in rows])
    weights = np.ones(len(rows))
    balanced = heads.length_balanced(corpus, index, y, weights)
    share = weights[y == 1].sum() / weights.sum()
    long_rows = np.arange(len(rows)) < 40
    for band in (long_rows, ~long_rows):
        assert np.isclose(balanced[band & (y == 1)].sum() / balanced[band].sum(), share)
        assert np.isclose(balanced[band].sum(), weights[band].sum())
    assert "insult" in heads.LENGTH_BALANCED_SLUGS
    trained = heads.head_row_weights(corpus, "insult", index, y)
    assert np.allclose(trained, balanced)
