"""The moderation engine: Civility's community standards as a plain Python library.

This package never imports Django: the web app, the Celery worker, the CLI and the evaluation
harness all call the same :class:`~civility.standards.engine.Engine`.
"""

from civility.standards.types import (
    Article,
    Comment,
    Context,
    Decision,
    Evidence,
    Finding,
    RecentComment,
    RuleResult,
    TextTooLong,
    Verdict,
)

__all__ = [
    "Article",
    "Comment",
    "Context",
    "Decision",
    "Evidence",
    "Finding",
    "RecentComment",
    "RuleResult",
    "TextTooLong",
    "Verdict",
]
