"""off_topic: similarity to the article (and the parent comment), calibrated; cached articles."""

from __future__ import annotations

import pytest

from civility.standards import embedding
from civility.standards.analysis import analyse
from civility.standards.detectors.topic import OffTopicDetector
from civility.standards.engine import EMPTY_CONTEXT
from civility.standards.policy import default_policy
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
