from civility.standards.engine import Engine
from civility.standards.rules import SLUGS
from civility.standards.types import Comment, Decision


def test_clean_comment_is_published_with_every_rule_scored() -> None:
    verdict = Engine().check(Comment("The council vote on the new bridge is next week."))
    assert verdict.decision is Decision.PUBLISH
    assert set(verdict.results) == set(SLUGS)
