"""Language identification for the analysis (rule 20 and per-language availability)."""

from __future__ import annotations

from civility.standards.analysis import Analysis
from civility.standards.policy import Policy


def annotate(analyses: list[Analysis], policy: Policy) -> None:
    """Set ``analysis.language`` (ISO 639-1, or "" when unknown). Placeholder: declared only."""
    for analysis in analyses:
        analysis.language = analysis.comment.language or ""
