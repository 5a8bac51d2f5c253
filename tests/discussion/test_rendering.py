"""A comment's plain text as safe HTML: escaping, links, paragraphs, quotes, evidence marks."""

from __future__ import annotations

from civility.discussion.rendering import render_comment_html


def test_text_is_escaped_linked_and_split_into_paragraphs() -> None:
    html = render_comment_html("<b>Hi</b> & see https://example.org/a.\n\nSecond\nline")
    assert "&lt;b&gt;Hi&lt;/b&gt; &amp; see" in html
    assert '<a href="https://example.org/a" rel="nofollow ugc noopener">' in html
    assert html.endswith("<p>Second<br>line</p>")


def test_lines_starting_with_a_chevron_quote() -> None:
    html = render_comment_html("> The minister said talks would resume.\n>  In March.\nI doubt it.")
    assert html == (
        "<blockquote><p>The minister said talks would resume.<br>In March.</p></blockquote>"
        "<p>I doubt it.</p>"
    )
    quoted_later = render_comment_html("Earlier:\n\n> one\n\n> two")
    assert quoted_later == (
        "<p>Earlier:</p><blockquote><p>one</p></blockquote><blockquote><p>two</p></blockquote>"
    )


def test_a_chevron_elsewhere_and_markup_in_a_quote_stay_text() -> None:
    assert render_comment_html("3 > 2, surely") == "<p>3 &gt; 2, surely</p>"
    html = render_comment_html("> <script>alert(1)</script> <blockquote>")
    assert "<script" not in html and "&lt;script&gt;" in html
    assert html.count("<blockquote>") == 1
    assert render_comment_html(">") == ""


def test_evidence_is_marked_inside_a_quote() -> None:
    text = "> you idiot\nQuoting that to condemn it."
    start = text.index("idiot")
    html = render_comment_html(
        text, [{"start": start, "end": start + 5, "rule": "insult", "explanation": "a slur"}]
    )
    assert html.startswith("<blockquote><p>you <mark")
    assert 'data-rule="insult"' in html and ">idiot</mark>" in html
