"""off_topic: similarity to the article (and the parent comment), calibrated; cached articles."""

from __future__ import annotations

import random

import numpy as np
import pytest

from civility.standards import embedding
from civility.standards.analysis import analyse
from civility.standards.detectors.topic import (
    ArticleVectors,
    OffTopicDetector,
    features,
    load_topic_model,
)
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
from civility.standards.training.topic import generic_reactions, news_threads, thread_pairs
from civility.standards.types import Article, Comment

ARTICLE = Article(
    title="City council votes to close two public libraries",
    lead="Councillors said the savings are needed to balance the budget; campaigners plan to appeal.",
    key="libraries-2026",
)


@pytest.fixture(scope="module")
def detector() -> OffTopicDetector:
    return OffTopicDetector(default_policy())


def score(detector: OffTopicDetector, comment: Comment) -> float:
    analysis = analyse(comment)
    embedding.annotate_static([analysis])
    embedding.annotate_full([analysis])
    return detector.detect(analysis, EMPTY_CONTEXT)["off_topic"].score


def test_no_article_is_neutral(detector: OffTopicDetector) -> None:
    analysis = analyse(Comment(text="Anyone know a good pizza place?"))
    embedding.annotate_static([analysis])
    assert detector.screen(analysis, EMPTY_CONTEXT) == {
        "off_topic": detector.detect(analysis, EMPTY_CONTEXT)["off_topic"]
    }
    assert detector.detect(analysis, EMPTY_CONTEXT)["off_topic"].score == 0.0


def test_unrelated_comment_scores_higher_than_related_one(detector: OffTopicDetector) -> None:
    related = score(
        detector,
        Comment(
            text="Closing libraries hurts kids who have nowhere else to study.", article=ARTICLE
        ),
    )
    unrelated = score(
        detector, Comment(text="Does anyone have a good recipe for banana bread?", article=ARTICLE)
    )
    assert unrelated > related
    assert unrelated >= 0.5 > related


def test_a_reply_is_judged_against_its_parent_too(detector: OffTopicDetector) -> None:
    text = "Agreed, the parking fees in the centre are outrageous."
    alone = score(detector, Comment(text=text, article=ARTICLE))
    as_reply = score(
        detector,
        Comment(
            text=text,
            article=ARTICLE,
            parent_text="Nobody visits the centre because parking costs a fortune.",
        ),
    )
    assert as_reply < alone


def test_article_vectors_are_cached_by_key(detector: OffTopicDetector) -> None:
    first = detector.articles.get(ARTICLE, "full")
    assert detector.articles.get(ARTICLE, "full") is first
    unkeyed = Article(title=ARTICLE.title, lead=ARTICLE.lead)
    assert detector.articles.get(unkeyed, "full") is detector.articles.get(unkeyed, "full")


# Praise, thanks and agreement written for this test, none of them a line of
# training/generic_reactions.txt: they fit under any article. The model before the reactions'
# likeness was a feature flagged 4 of these 8 (models/README.md, section 4).
UNSEEN_GENERIC_PRAISE = (
    "this is very interesting and useful!! Thank you!",
    "Really informative piece, cheers for writing it.",
    "Spot on, couldn't have put it better myself.",
    "Great points, well argued.",
    "I agree with every word.",
    "Thanks for this.",
    "Well said!",
    "Brilliant, thanks for sharing.",
)


def test_the_shipped_model_reads_the_likeness_to_generic_reactions() -> None:
    model = load_topic_model()
    assert model.full_reactions is not None and model.static_reactions is not None
    assert len(model.full_reactions) == len(model.static_reactions) == len(generic_reactions())
    assert model.full_weights.shape == (6,) and model.static_weights.shape == (6,)
    # Likeness to a reaction speaks for "on topic": a negative weight on the off-topic logit.
    assert model.full_weights[5] < 0


def test_generic_praise_unseen_in_training_is_on_topic(detector: OffTopicDetector) -> None:
    assert not set(UNSEEN_GENERIC_PRAISE) & set(generic_reactions())
    flagged = [
        text
        for text in UNSEEN_GENERIC_PRAISE
        if score(detector, Comment(text=text, article=ARTICLE)) >= 0.5
    ]
    # One still crosses the queue point: "Spot on, couldn't have put it better myself." (0.55).
    assert len(flagged) <= 1, flagged


def test_features_without_reactions_keep_the_five_columns_of_older_model_files() -> None:
    vector = np.zeros(4, dtype=np.float32)
    vector[0] = 1.0
    article = ArticleVectors(head=vector, body=np.zeros((0, 4), dtype=np.float32))
    assert features(vector, article, None, 3).shape == (5,)
    reactions = np.eye(4, dtype=np.float32)[1:]
    with_reactions = features(vector, article, None, 3, reactions)
    assert with_reactions.shape == (6,) and with_reactions[5] == 0.0
    assert features(vector, article, None, 3, np.eye(4, dtype=np.float32))[5] == 1.0


def test_the_team_threads_are_whole() -> None:
    threads = news_threads()
    assert len(threads) == 150
    assert len({thread["id"] for thread in threads}) == 150
    assert all(len(t["on_topic"]) == 5 and len(t["off_topic"]) == 3 for t in threads)
    pairs = thread_pairs(random.Random(0))
    # Each comment under its own article, each on-topic one also under another section's.
    assert len(pairs) == 150 * (5 + 3 + 5)
    assert sum(label for _, _, label in pairs) == 150 * (3 + 5)
