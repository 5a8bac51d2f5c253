"""Turn a comment's plain text into safe HTML.

Comments are plain text: every character is escaped, URLs become links (rel="nofollow ugc"),
blank lines make paragraphs, lines that start with ">" quote (a <blockquote>, as in e-mail),
and the engine's evidence spans can be highlighted with <mark>.
The result then goes through nh3 with a tiny allow-list, as a second line of defence.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

import nh3
from django.utils.safestring import SafeString, mark_safe

from civility.standards.rules import rule_label_or

URL_PATTERN = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".,;:!?)]}»"

ALLOWED_TAGS = {"p", "br", "a", "mark", "blockquote"}
# A quoted line, as it reads once escaped: "> words".
_QUOTE_MARKER = "&gt;"
ALLOWED_ATTRIBUTES = {"a": {"href"}, "mark": {"class", "title", "data-rule"}}


def _linkify(segment: str) -> str:
    """Escape a raw text segment, making its http(s) URLs into links."""
    out: list[str] = []
    position = 0
    for match in URL_PATTERN.finditer(segment):
        url = match.group(0)
        trimmed = url.rstrip(_TRAILING_PUNCTUATION)
        end = match.start() + len(trimmed)
        out.append(html.escape(segment[position : match.start()]))
        out.append(f'<a href="{html.escape(trimmed, quote=True)}">{html.escape(trimmed)}</a>')
        position = end
    out.append(html.escape(segment[position:]))
    return "".join(out)


def _spans(text: str, evidence: Iterable[Mapping[str, Any]]) -> list[tuple[int, int, str, str]]:
    spans = []
    for item in evidence:
        start, end = item.get("start"), item.get("end")
        if not isinstance(start, int) or not isinstance(end, int):
            continue
        if 0 <= start < end <= len(text):
            slug = str(item.get("rule", ""))
            label = rule_label_or(slug, slug)
            explanation = str(item.get("explanation", ""))
            spans.append((start, end, slug, f"{label}: {explanation}" if explanation else label))
    spans.sort()
    merged: list[tuple[int, int, str, str]] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            last = merged[-1]
            merged[-1] = (last[0], max(last[1], span[1]), last[2], last[3])
        else:
            merged.append(span)
    return merged


def _block(block: str) -> str:
    """One paragraph of escaped text: its runs of lines that start with ">" become a
    blockquote (the marker dropped), the other runs a paragraph."""
    out: list[str] = []
    run: list[str] = []
    quoting = False

    def flush() -> None:
        if run and any(line.strip() for line in run):
            inner = "<br>".join(run)
            out.append(f"<blockquote><p>{inner}</p></blockquote>" if quoting else f"<p>{inner}</p>")
        run.clear()

    for line in block.split("\n"):
        stripped = line.lstrip()
        quoted = stripped.startswith(_QUOTE_MARKER)
        if quoted != quoting:
            flush()
            quoting = quoted
        run.append(stripped[len(_QUOTE_MARKER) :].lstrip(" ") if quoted else line)
    flush()
    return "".join(out)


def _paragraphs(fragment_html: str) -> str:
    blocks = re.split(r"\n\s*\n", fragment_html.strip())
    return "".join(_block(block) for block in blocks if block.strip())


def clean(fragment: str) -> str:
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="nofollow ugc noopener",
    )


def render_comment_html(text: str, evidence: Iterable[Mapping[str, Any]] = ()) -> SafeString:
    """Safe HTML for a comment; ``evidence`` (verdict evidence dicts) is highlighted."""
    pieces: list[str] = []
    position = 0
    for start, end, slug, title in _spans(text, evidence):
        pieces.append(_linkify(text[position:start]))
        pieces.append(
            f'<mark class="evidence" data-rule="{html.escape(slug, quote=True)}" '
            f'title="{html.escape(title, quote=True)}">{html.escape(text[start:end])}</mark>'
        )
        position = end
    pieces.append(_linkify(text[position:]))
    return mark_safe(clean(_paragraphs("".join(pieces))))  # cleaned by nh3 just above
