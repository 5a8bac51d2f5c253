from __future__ import annotations

import json
from pathlib import Path

import pytest

from civility.cli import main
from civility.news.importer import ArticleImportError, import_file, parse_file
from civility.news.models import Article, Tag

pytestmark = pytest.mark.django_db


def _line(**fields: object) -> str:
    record = {
        "source_url": "https://example.org/news/1",
        "headline": "Bridge reopens after repairs",
        "lead": "Traffic returns on Monday.",
        "body": "<p>The bridge was closed for six months.</p>",
        "published_at": "2026-11-20T09:30:00+00:00",
        "tags": ["Transport", "City"],
        "dateline": "Harbourton",
    }
    record.update(fields)
    return json.dumps(record)


def _write(tmp_path: Path, *lines: str, name: str = "articles.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_lines_import_creates_articles_with_tags(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        _line(),
        "",
        _line(source_url="https://example.org/news/2", headline="Second story"),
    )
    result = import_file(path)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    article = Article.objects.get(source_id="https://example.org/news/1")
    assert article.slug == "bridge-reopens-after-repairs"
    assert article.dateline == "Harbourton"
    assert article.published_at.isoformat() == "2026-11-20T09:30:00+00:00"
    assert sorted(article.tags.values_list("slug", flat=True)) == ["city", "transport"]
    assert Tag.objects.count() == 2


def test_import_is_idempotent_and_updates_by_source(tmp_path: Path) -> None:
    path = _write(tmp_path, _line())
    import_file(path)
    code = Article.objects.get().short_code
    again = import_file(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    edited = _write(tmp_path, _line(headline="Bridge reopens a week late"), name="edited.jsonl")
    result = import_file(edited)
    assert (result.created, result.updated) == (0, 1)
    article = Article.objects.get()
    assert article.headline == "Bridge reopens a week late"
    assert article.short_code == code  # links already shared keep working
    assert article.slug == "bridge-reopens-after-repairs"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        (_line(headline=""), "needs a headline"),
        (_line(source_url=None), "source URL or guid"),
        (_line(body="", lead=""), "body or a lead"),
        (_line(published_at="next Tuesday"), "unreadable date"),
        (_line(tags="Transport"), "'tags' must be a list"),
        (_line(headline="x" * 301), "longer than 300"),
        (_line(headline=7), "'headline' must be a string"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    tmp_path: Path, bad_line: str, message: str
) -> None:
    good = _line(source_url="https://example.org/news/ok")
    path = _write(tmp_path, good, good.replace("/ok", "/ok2"), bad_line)
    with pytest.raises(ArticleImportError) as caught:
        import_file(path)
    assert caught.value.line == 3
    assert message in str(caught.value)
    assert Article.objects.count() == 0
    assert Tag.objects.count() == 0


def test_duplicate_source_in_one_file_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, _line(), _line(headline="Same source"))
    with pytest.raises(ArticleImportError, match="line 2: same source URL/guid as line 1"):
        import_file(path)
    assert Article.objects.count() == 0


def test_a_failure_while_writing_rolls_everything_back(tmp_path: Path) -> None:
    Article.objects.create(headline="Taken", slug="taken", body="<p>x</p>")
    path = _write(tmp_path, _line(), _line(source_url="https://example.org/news/2", slug="taken"))
    with pytest.raises(ArticleImportError, match="line 2: slug 'taken' is already used"):
        import_file(path)
    assert list(Article.objects.values_list("slug", flat=True)) == ["taken"]


def test_binary_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_bytes(_line().encode() + b"\n\xff\xfe\x00junk\n")
    with pytest.raises(ArticleImportError, match="line 2: not valid UTF-8"):
        parse_file(path)


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Example</title>
  <item>
    <title>Ferry service resumes</title>
    <link>https://example.org/ferry</link>
    <guid>https://example.org/ferry</guid>
    <pubDate>Fri, 20 Nov 2026 08:00:00 GMT</pubDate>
    <description>The ferry is back.</description>
    <content:encoded><![CDATA[<p>The ferry is back after <b>repairs</b>.</p><script>x()</script>]]></content:encoded>
    <category>Transport</category>
  </item>
  <item>
    <title>Library opens late</title>
    <link>https://example.org/library</link>
    <description>&lt;p&gt;Open until midnight.&lt;/p&gt;</description>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title>
  <id>urn:example</id>
  <updated>2026-11-20T08:00:00Z</updated>
  <entry>
    <title>Marathon record</title>
    <id>urn:example:marathon</id>
    <link rel="alternate" href="https://example.org/marathon"/>
    <published>2026-11-19T07:00:00Z</published>
    <updated>2026-11-19T08:00:00Z</updated>
    <summary>More runners than ever.</summary>
    <content type="html">&lt;p&gt;21,000 finished.&lt;/p&gt;</content>
    <category term="sport" label="Sport"/>
  </entry>
</feed>
"""


def test_rss_import(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(RSS, encoding="utf-8")
    result = import_file(path)
    assert result.created == 2
    ferry = Article.objects.get(source_id="https://example.org/ferry")
    assert ferry.lead == "The ferry is back."
    assert ferry.body == "<p>The ferry is back after <b>repairs</b>.</p>"
    assert ferry.published_at.isoformat() == "2026-11-20T08:00:00+00:00"
    assert list(ferry.tags.values_list("name", flat=True)) == ["Transport"]
    library = Article.objects.get(source_id="https://example.org/library")
    assert library.body == "<p>Open until midnight.</p>"
    assert import_file(path).unchanged == 2


def test_atom_import(tmp_path: Path) -> None:
    path = tmp_path / "feed.atom"
    path.write_text(ATOM, encoding="utf-8")
    import_file(path)
    article = Article.objects.get(source_id="urn:example:marathon")
    assert article.headline == "Marathon record"
    assert article.lead == "More runners than ever."
    assert article.body_text == "21,000 finished."
    assert article.published_at.isoformat() == "2026-11-19T07:00:00+00:00"
    assert list(article.tags.values_list("slug", flat=True)) == ["sport"]


def test_feed_errors_name_their_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text(
        RSS.replace("<title>Library opens late</title>", "<title>Library</titel>"), encoding="utf-8"
    )
    with pytest.raises(
        ArticleImportError, match=r"line 15: malformed XML \(mismatched tag, column 21\)"
    ):
        import_file(broken)
    missing_title = tmp_path / "untitled.xml"
    missing_title.write_text(RSS.replace("<title>Library opens late</title>", ""), encoding="utf-8")
    with pytest.raises(ArticleImportError, match=r"line 14: needs a headline"):
        import_file(missing_title)
    assert Article.objects.count() == 0


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel/></rss>')
    with pytest.raises(ArticleImportError, match="entity"):
        import_file(path)


def test_cli_reports_success_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path, _line())
    assert main(["import-articles", str(good)]) == 0
    assert "1 created" in capsys.readouterr().out
    bad = _write(
        tmp_path, _line(source_url="https://example.org/news/9"), "{oops", name="bad.jsonl"
    )
    assert main(["import-articles", str(bad)]) == 1
    error = capsys.readouterr().err
    assert "line 2" in error and "Nothing was imported" in error
    assert "Traceback" not in error
    assert Article.objects.count() == 1
    assert main(["import-articles", str(tmp_path / "missing.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_cli_imports_into_one_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from civility.sites.models import Site

    russian = Site.objects.create(name="RU", path_prefix="ru", language="ru")
    path = _write(tmp_path, _line())
    assert main(["import-articles", str(path), "--site", "ru"]) == 0
    assert Article.objects.get().site_id == russian.pk
    assert main(["import-articles", str(path), "--site", "nowhere"]) == 1
    assert "no site 'nowhere'" in capsys.readouterr().err
