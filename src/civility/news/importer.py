"""Import articles from JSON lines or an RSS/Atom feed.

The import is all-or-nothing: the whole file is parsed and checked first, then written in
one transaction. Articles are identified by their source URL or feed guid, so importing the
same file twice changes nothing and re-importing an edited feed updates the articles.

JSON lines: one object per line::

    {"source_url": "https://example.org/2026/11/talks", "headline": "...", "lead": "...",
     "body": "<p>...</p>", "published_at": "2026-11-20T09:30:00+00:00",
     "tags": ["Diplomacy", "Japan"], "dateline": "Tokyo", "image_credit": "...", "slug": "..."}

``guid`` may stand in for ``source_url``; ``body`` or ``lead`` may be missing, not both.
"""

from __future__ import annotations

import email.utils
import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.parsers import expat

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from civility.news.html import html_to_text, sanitize_body
from civility.news.models import Article, Tag
from civility.sites.models import default_site_pk

MAX_LENGTHS = {
    "headline": 300,
    "dateline": 120,
    "image_credit": 200,
    "image_alt": 300,
    "slug": 200,
    "source_id": 500,
}
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
DUBLIN_CORE = "http://purl.org/dc/elements/1.1/"


class ArticleImportError(ValueError):
    """The file cannot be imported; ``line`` is where the problem is (1-based, 0 if unknown)."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class ArticleRecord:
    line: int
    source_id: str
    headline: str
    body: str = ""
    lead: str = ""
    published_at: datetime | None = None
    tags: list[str] = field(default_factory=list)
    dateline: str = ""
    slug: str = ""
    image_credit: str = ""
    image_alt: str = ""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    articles: list[Article] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


# --- Parsing --------------------------------------------------------------------------------


def _parse_datetime(value: str, line: int) -> datetime:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise ArticleImportError(
                line, f"unreadable date {value[:60]!r} (use ISO 8601)"
            ) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    return moment


def _check(record: ArticleRecord) -> ArticleRecord:
    if not record.source_id:
        raise ArticleImportError(record.line, "needs a source URL or guid ('source_url' or 'guid')")
    if not record.headline:
        raise ArticleImportError(record.line, "needs a headline")
    if not (record.body or record.lead):
        raise ArticleImportError(record.line, "needs a body or a lead")
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(record, name)) > limit:
            raise ArticleImportError(record.line, f"{name} is longer than {limit} characters")
    if "\x00" in record.body + record.lead + record.headline:
        raise ArticleImportError(record.line, "contains a NUL character")
    return record


def _text(value: Any, name: str, line: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ArticleImportError(line, f"'{name}' must be a string")
    return value.strip()


def parse_json_lines(text: str) -> list[ArticleRecord]:
    records = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        if not raw_line.strip():
            continue
        try:
            item = json.loads(raw_line)
        except json.JSONDecodeError as error:
            raise ArticleImportError(
                number, f"invalid JSON ({error.msg}, column {error.colno})"
            ) from None
        if not isinstance(item, dict):
            raise ArticleImportError(number, "each line must be a JSON object")
        tags = item.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise ArticleImportError(number, "'tags' must be a list of strings")
        published = _text(item.get("published_at"), "published_at", number)
        records.append(
            _check(
                ArticleRecord(
                    line=number,
                    source_id=_text(
                        item.get("source_url") or item.get("guid"), "source_url", number
                    ),
                    headline=_text(item.get("headline"), "headline", number),
                    body=_text(item.get("body"), "body", number),
                    lead=_text(item.get("lead"), "lead", number),
                    published_at=_parse_datetime(published, number) if published else None,
                    tags=[tag.strip() for tag in tags if tag.strip()],
                    dateline=_text(item.get("dateline"), "dateline", number),
                    slug=_text(item.get("slug"), "slug", number),
                    image_credit=_text(item.get("image_credit"), "image_credit", number),
                    image_alt=_text(item.get("image_alt"), "image_alt", number),
                )
            )
        )
    return records


def _entry_lines(data: bytes) -> list[int]:
    """Line numbers where each <item>/<entry> starts, in document order (ElementTree has none)."""
    lines: list[int] = []
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attributes: dict[str, str]) -> None:
        if name.rsplit(" ", 1)[-1] in {"item", "entry"}:
            lines.append(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    parser.Parse(data, True)
    return lines


def _child_text(element: ElementTree.Element, *names: str) -> str:
    for name in names:
        child = element.find(name)
        if child is not None and (child.text or "").strip():
            return (child.text or "").strip()
    return ""


def _rss_record(item: ElementTree.Element, line: int) -> ArticleRecord:
    description = _child_text(item, "description")
    content = _child_text(item, f"{{{CONTENT}}}encoded")
    date = _child_text(item, "pubDate", f"{{{DUBLIN_CORE}}}date")
    tags = [
        (child.text or "").strip()
        for child in item.findall("category")
        if (child.text or "").strip()
    ]
    return ArticleRecord(
        line=line,
        source_id=_child_text(item, "guid", "link"),
        headline=html_to_text(_child_text(item, "title")),
        body=content or description,
        lead=html_to_text(description) if content else "",
        published_at=_parse_datetime(date, line) if date else None,
        tags=tags,
    )


def _atom_record(entry: ElementTree.Element, line: int) -> ArticleRecord:
    link = ""
    for candidate in entry.findall(f"{{{ATOM}}}link"):
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            link = candidate.get("href", "")
            break
    summary = _child_text(entry, f"{{{ATOM}}}summary")
    content = _child_text(entry, f"{{{ATOM}}}content")
    date = _child_text(entry, f"{{{ATOM}}}published", f"{{{ATOM}}}updated")
    tags = [
        (category.get("label") or category.get("term") or "").strip()
        for category in entry.findall(f"{{{ATOM}}}category")
    ]
    return ArticleRecord(
        line=line,
        source_id=_child_text(entry, f"{{{ATOM}}}id") or link,
        headline=html_to_text(_child_text(entry, f"{{{ATOM}}}title")),
        body=content or summary,
        lead=html_to_text(summary) if content else "",
        published_at=_parse_datetime(date, line) if date else None,
        tags=[tag for tag in tags if tag],
    )


def parse_feed(data: bytes) -> list[ArticleRecord]:
    if b"<!ENTITY" in data:
        raise ArticleImportError(0, "feeds with entity declarations are refused")
    try:
        root = ElementTree.fromstring(data)
        lines = _entry_lines(data)
    except ElementTree.ParseError as error:
        line, column = error.position
        reason = expat.ErrorString(error.code)
        raise ArticleImportError(line, f"malformed XML ({reason}, column {column + 1})") from None
    except expat.ExpatError as error:
        raise ArticleImportError(
            error.lineno, f"malformed XML ({expat.errors.messages[error.code]})"
        ) from None
    entries = [
        element
        for element in root.iter()
        if isinstance(element.tag, str) and element.tag.rsplit("}", 1)[-1] in {"item", "entry"}
    ]
    if root.tag not in {"rss", f"{{{ATOM}}}feed"} and not root.tag.endswith("RDF"):
        raise ArticleImportError(1, f"not an RSS or Atom feed (root element {root.tag!r})")
    records = []
    for entry, line in zip(entries, lines, strict=False):
        parse = _atom_record if entry.tag == f"{{{ATOM}}}entry" else _rss_record
        records.append(_check(parse(entry, line)))
    return records


def parse_file(path: Path) -> list[ArticleRecord]:
    """Records of a JSON lines or RSS/Atom file, told apart by their first character."""
    data = path.read_bytes()
    if data.lstrip()[:1] == b"<":
        return parse_feed(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ArticleImportError(line, "not valid UTF-8") from None
    return parse_json_lines(text)


# --- Writing --------------------------------------------------------------------------------


def _tags(names: Iterable[str], cache: dict[str, Tag]) -> list[Tag]:
    tags = []
    for name in names:
        slug = slugify(name, allow_unicode=True)[:80]
        if not slug:
            continue
        if slug not in cache:
            cache[slug], _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name[:80]})
        tags.append(cache[slug])
    return tags


def _unique_slug(wanted: str, line: int, explicit: bool) -> str:
    base = slugify(wanted, allow_unicode=True)[:190] or "article"
    if not Article.objects.filter(slug=base).exists():
        return base
    if explicit:
        raise ArticleImportError(line, f"slug {base!r} is already used by another article")
    suffix = 2
    while Article.objects.filter(slug=f"{base}-{suffix}").exists():
        suffix += 1
    return f"{base}-{suffix}"


def import_records(
    records: list[ArticleRecord],
    *,
    progress: Callable[[Iterable[ArticleRecord]], Iterable[ArticleRecord]] | None = None,
    site_id: int | None = None,
) -> ImportResult:
    """Create or update an article per record, in one transaction (all or nothing). New
    articles go to ``site_id`` (default: the default site); updated ones keep their site."""
    seen: dict[str, int] = {}
    for record in records:
        if record.source_id in seen:
            raise ArticleImportError(
                record.line,
                f"same source URL/guid as line {seen[record.source_id]}: {record.source_id[:80]}",
            )
        seen[record.source_id] = record.line
    result = ImportResult()
    tag_cache: dict[str, Tag] = {}
    with transaction.atomic():
        for record in progress(records) if progress else records:
            article = Article.objects.filter(source_id=record.source_id).first()
            tags = _tags(record.tags, tag_cache)
            if article is None:
                article = Article(
                    site_id=site_id if site_id is not None else default_site_pk(),
                    source_id=record.source_id,
                    slug=_unique_slug(
                        record.slug or record.headline, record.line, bool(record.slug)
                    ),
                )
                if record.published_at:
                    article.published_at = record.published_at
                outcome = "created"
            else:
                before = _snapshot(article)
                outcome = "updated"
            article.headline = record.headline
            article.lead = record.lead
            article.body = record.body
            article.dateline = record.dateline
            article.image_credit = record.image_credit or article.image_credit
            article.image_alt = record.image_alt or article.image_alt
            if record.published_at:
                article.published_at = record.published_at
            if outcome == "updated":
                article.body = sanitize_body(article.body)
                if _snapshot(article) == before and {tag.pk for tag in tags} == set(
                    article.tags.values_list("pk", flat=True)
                ):
                    result.unchanged += 1
                    result.articles.append(article)
                    continue
            article.save()
            article.tags.set(tags)
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.articles.append(article)
    return result


def _snapshot(article: Article) -> tuple[Any, ...]:
    return (
        article.headline,
        article.lead,
        article.body,
        article.dateline,
        article.image_credit,
        article.image_alt,
        article.published_at,
    )


def import_file(path: Path, **options: Any) -> ImportResult:
    return import_records(parse_file(path), **options)
