"""Article HTML: one allow-list for every way a body gets in (admin, import, demo)."""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "figure", "figcaption", "q", "cite", "abbr", "sub", "sup",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
# "read-more" paragraphs are the inline links to other articles (product.md §1).
ALLOWED_CLASSES = {"p": {"read-more"}}
BLOCK_END = re.compile(r"</(p|li|h[2-4]|blockquote|figcaption)>|<br\s*/?>", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
SPACES = re.compile(r"[ \t\r\f\v]+")


def sanitize_body(raw: str) -> str:
    """Return ``raw`` with every tag, attribute and URL scheme outside the allow-list removed."""
    return nh3.clean(
        raw or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def html_to_text(markup: str) -> str:
    """Plain text of sanitised HTML, one paragraph per line (for search and feeds)."""
    text = BLOCK_END.sub("\n", markup or "")
    text = html.unescape(TAG.sub("", text))
    lines = (SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)
