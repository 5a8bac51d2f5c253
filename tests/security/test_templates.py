"""A fast guard for the CSP: no page template holds inline script, an inline event handler,
a style attribute or a javascript: URL (the browser test proves the rendered pages; this
names the file and line the moment one is added). E-mail templates are exempt: mail clients
need inline styles and no CSP applies there."""

from __future__ import annotations

import re
from pathlib import Path

import civility

PACKAGE = Path(civility.__file__).resolve().parent
INLINE = {
    "inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I),
}  # fmt: skip


def page_templates() -> list[Path]:
    return [
        path for path in sorted(PACKAGE.rglob("templates/**/*.html")) if path.parent.name != "email"
    ]


def test_page_templates_need_no_unsafe_inline() -> None:
    templates = page_templates()
    assert len(templates) > 40
    found = []
    for path in templates:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for what, pattern in INLINE.items():
                if pattern.search(line):
                    found.append(f"{path.relative_to(PACKAGE)}:{number}: {what}")
    assert found == [], "move these to static files (the CSP refuses them):\n" + "\n".join(found)


def test_the_guard_sees_each_kind() -> None:
    samples = [
        "<script>x()</script>",
        '<a onclick="x()">',
        '<p style="x">',
        "<style>",
        '<a href="javascript:x()">',
    ]
    assert all(
        pattern.search(sample) for pattern, sample in zip(INLINE.values(), samples, strict=True)
    )
    assert not INLINE["inline <script>"].search('<script src="a.js" defer></script>')
    assert not INLINE["inline <script>"].search('<script type="application/json" id="c">')
