"""``civility moderate``: run the engine over JSONL, or over one ``--text``.

Contract (it is driven from outside):

    civility moderate [--policy FILE] [--input FILE] [--output FILE]

reads JSON lines from stdin (or ``--input``) and writes exactly one JSON line per input line to
stdout (or ``--output``), in the same order. An input line is an object with ``id``, ``text``
and optionally ``article`` (a string, or ``{"title", "lead", "body"}``), ``author``,
``created_at`` (ISO 8601), ``parent_text`` and ``lang``. An output line is
``{"id", "decision", "rules", "scores", "evidence", ...}``; a malformed input line gets
``{"id", "line", "error"}`` instead and the run goes on.

Memory stays bounded: lines are read, judged and written in batches, and the cross-comment
rules see a bounded window of the stream (:class:`InMemoryContext`).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

from civility.standards.engine import DEFAULT_BATCH_SIZE, Engine, InMemoryContext
from civility.standards.policy import Policy, PolicyError, default_policy
from civility.standards.rules import RULES_BY_SLUG
from civility.standards.types import (
    Article,
    Comment,
    Context,
    TextTooLong,
    Verdict,
)

DEFAULT_WINDOW = 20_000  # comments of the stream the cross-comment rules can look back on
# A line longer than this is refused unread: 10,000 characters of text, JSON-escaped, plus a
# whole article body fit many times over.
MAX_LINE_BYTES = 16 * 1024 * 1024


class InputError(ValueError):
    """One input line cannot be judged; the message says why."""


@dataclass(slots=True)
class _Line:
    number: int
    id: Any
    comment: Comment | None = None
    error: str = ""


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file (TOML or JSON); default: the shipped policy"
    )
    parser.add_argument("--input", metavar="FILE", help="JSONL to read (default: stdin)")
    parser.add_argument("--output", metavar="FILE", help="JSONL to write (default: stdout)")
    parser.add_argument("--text", help="judge this one comment and print a readable verdict")
    parser.add_argument("--article", help="with --text: the article's title or text")
    parser.add_argument(
        "--parent-text", dest="parent_text", help="with --text: the comment it replies to"
    )
    parser.add_argument("--lang", help="with --text: the comment's declared language")
    parser.add_argument(
        "--json", action="store_true", help="with --text: print the verdict as JSON"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"comments judged together (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=DEFAULT_WINDOW,
        metavar="N",
        help=f"recent comments kept for flash_mob/flood (default {DEFAULT_WINDOW})",
    )
    parser.add_argument(
        "--no-cascade",
        dest="cascade",
        action="store_false",
        help="run the full model on every comment (slower; for comparison)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        policy = Policy.load(args.policy) if args.policy else default_policy()
    except PolicyError as exc:
        print(f"civility moderate: error: policy: {exc}", file=sys.stderr)
        return 2
    if args.batch_size <= 0 or args.window <= 0:
        print(
            "civility moderate: error: --batch-size and --window must be positive", file=sys.stderr
        )
        return 2
    engine = Engine(policy, cascade=args.cascade, batch_size=args.batch_size)
    if args.text is not None:
        return _run_text(engine, args)
    return _run_stream(engine, args)


# -- one comment -----------------------------------------------------------------------------


def _run_text(engine: Engine, args: argparse.Namespace) -> int:
    comment = Comment(
        text=args.text,
        parent_text=args.parent_text or "",
        article=_article(args.article) if args.article else None,
        language=args.lang or "",
        id="text",
    )
    try:
        verdict = engine.check(comment)
    except TextTooLong as exc:
        print(f"civility moderate: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"id": None, **verdict.to_dict()}, ensure_ascii=False))
    else:
        print(render_verdict(comment.text, verdict, color=sys.stdout.isatty()))
    return 0


_BOLD, _RESET = "\033[1m", "\033[0m"
_DECISION_COLOURS = {"publish": "\033[32m", "queue": "\033[33m", "reject": "\033[31m"}
_HIGHLIGHT = "\033[1;41;97m"


def render_verdict(text: str, verdict: Verdict, *, color: bool) -> str:
    """A person-readable verdict: decision, fired rules with scores, highlighted evidence."""

    def paint(value: str, code: str) -> str:
        return f"{code}{value}{_RESET}" if color else value

    decision = verdict.decision.value
    lines = [
        f"decision: {paint(decision.upper(), _BOLD + _DECISION_COLOURS[decision])}",
        f"policy {verdict.policy_version} · {verdict.engine_version} · "
        f"language {verdict.language or 'unknown'} · stage {verdict.stage}",
    ]
    fired = verdict.fired
    if fired:
        lines.append("rules that fired:")
        for slug in fired:
            result = verdict.results[slug]
            action = "reject" if result.score >= result.reject_threshold else "queue"
            rule = RULES_BY_SLUG[slug]
            lines.append(
                f"  {slug:<17} {result.score:.2f}  → {action:<6} (queue ≥ {result.queue_threshold:.2f}, "
                f"reject ≥ {result.reject_threshold:.2f})  rule {rule.number}: {rule.title}"
            )
    else:
        lines.append("rules that fired: none")
    if verdict.unavailable:
        lines.append("could not judge (held for a moderator): " + ", ".join(verdict.unavailable))
    if verdict.evidence:
        lines.append("evidence:")
        for item in verdict.evidence:
            where = ""
            if item.start is not None and item.end is not None:
                where = f" [{item.start}:{item.end}] {item.text!r}"
            if item.url:
                where += f" {item.url}"
            if item.comment_ids:
                where += f" (comments: {', '.join(item.comment_ids[:10])}"
                where += ", …)" if len(item.comment_ids) > 10 else ")"
            lines.append(f"  {item.slug}: {item.explanation}{where}")
    spans = [
        (e.start, e.end) for e in verdict.evidence if e.start is not None and e.end is not None
    ]
    if spans:
        lines.append("text:")
        lines.append("  " + highlight(text, spans, color=color))
    others = sorted(
        (
            (slug, score)
            for slug, score in verdict.scores.items()
            if slug not in fired and score >= 0.05
        ),
        key=lambda item: -item[1],
    )
    if others:
        lines.append("other scores: " + ", ".join(f"{slug} {score:.2f}" for slug, score in others))
    return "\n".join(lines)


def highlight(text: str, spans: list[tuple[Any, Any]], *, color: bool) -> str:
    """Mark the spans in ``text``: ANSI inverse on a terminal, ``[brackets]`` otherwise."""
    merged: list[list[int]] = []
    for start, end in sorted((max(0, int(s)), min(len(text), int(e))) for s, e in spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    opening, closing = (_HIGHLIGHT, _RESET) if color else ("[", "]")
    pieces, cursor = [], 0
    for start, end in merged:
        pieces += [text[cursor:start], opening, text[start:end], closing]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


# -- the stream ------------------------------------------------------------------------------


def _run_stream(engine: Engine, args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        try:
            if args.input:
                source: IO[bytes] = stack.enter_context(open(args.input, "rb"))
                total = os.fstat(source.fileno()).st_size
            else:
                source, total = sys.stdin.buffer, 0
            if args.output:
                sink: IO[bytes] = stack.enter_context(open(args.output, "wb"))
            else:
                sink = sys.stdout.buffer
        except OSError as exc:
            print(f"civility moderate: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
        progress = _progress(total) if sys.stderr.isatty() else None
        if progress is not None:
            stack.callback(progress.close)
        stream = Stream(engine, window=args.window, batch_size=engine.batch_size)
        errors = lines = 0
        for outputs, consumed in stream.run(source, batch_size=engine.batch_size):
            sink.write(
                b"".join(json.dumps(o, ensure_ascii=False).encode("utf-8") + b"\n" for o in outputs)
            )
            sink.flush()
            lines += len(outputs)
            errors += sum(1 for o in outputs if "error" in o)
            if progress is not None:
                progress.update(consumed if total else len(outputs))
                progress.set_postfix(lines=lines, errors=errors, refresh=False)
    if errors:
        print(
            f"civility moderate: {errors} of {lines} line(s) could not be judged "
            "(their output line has an 'error' key)",
            file=sys.stderr,
        )
    return 0


def _progress(total: int) -> Any:
    from tqdm import tqdm

    if total:
        return tqdm(total=total, unit="B", unit_scale=True, desc="moderating", file=sys.stderr)
    return tqdm(unit=" comments", desc="moderating", file=sys.stderr)


class Stream:
    """Judge a JSONL byte stream in batches; the context is the stream itself."""

    def __init__(
        self,
        engine: Engine,
        *,
        window: int = DEFAULT_WINDOW,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.engine = engine
        # The engine reads the next batch before it finishes this one (check_stream): the
        # context keeps room for two batches besides the window, so that each comment sees
        # the `window` comments before it, whatever was read after it.
        self.context = InMemoryContext(max_comments=window, ahead=2 * max(batch_size, 1))
        # Comments without created_at are taken as arriving when the run started, so the
        # time windows still work (all undated comments count as simultaneous).
        self.started = datetime.now(UTC).replace(microsecond=0)

    def run(
        self, source: IO[bytes], *, batch_size: int
    ) -> Iterator[tuple[list[dict[str, Any]], int]]:
        """Yield (output objects, bytes consumed) per batch, in input order."""
        if 2 * batch_size > self.context.ahead:
            raise ValueError("batch_size is larger than the stream was made for")
        read: deque[tuple[list[_Line], int]] = deque()  # batches read, not yet answered

        def batches() -> Iterator[tuple[list[Comment], list[Context]]]:
            batch: list[_Line] = []
            consumed = 0
            for number, (raw, size) in enumerate(_lines(source), 1):
                consumed += size
                batch.append(self.parse(raw, number))
                if len(batch) >= batch_size:
                    read.append((batch, consumed))
                    yield self.place(batch)
                    batch, consumed = [], 0
            if batch:
                read.append((batch, consumed))
                yield self.place(batch)

        for verdicts in self.engine.check_stream(batches()):
            batch, consumed = read.popleft()
            yield self.outputs(batch, verdicts), consumed

    def parse(self, raw: bytes | None, number: int) -> _Line:
        line = _Line(number=number, id=None)
        try:
            if raw is None:
                raise InputError(f"line longer than {MAX_LINE_BYTES:,} bytes; not read")
            try:
                decoded = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"not valid UTF-8 (byte {exc.start})") from exc
            if number == 1:
                decoded = decoded.removeprefix("\ufeff")
            if not decoded.strip():
                raise InputError("empty line; expected a JSON object")
            try:
                data = json.loads(decoded)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg} at column {exc.colno}") from exc
            if not isinstance(data, dict):
                raise InputError(f"expected a JSON object, got {type(data).__name__}")
            line.id = data.get("id")
            line.comment = parse_comment(data, number=number, default_time=self.started)
            self.engine.validate([line.comment])
        except (InputError, TextTooLong) as exc:
            line.comment = None
            line.error = str(exc)
        return line

    def place(self, batch: list[_Line]) -> tuple[list[Comment], list[Context]]:
        """Add the batch's comments to the stream; each comment's view of what came before."""
        comments = [line.comment for line in batch if line.comment is not None]
        return comments, [self.context.add_comment(comment) for comment in comments]

    @staticmethod
    def outputs(batch: list[_Line], verdicts: list[Verdict]) -> list[dict[str, Any]]:
        answers = iter(verdicts)
        outputs = []
        for line in batch:
            if line.comment is None:
                outputs.append({"id": line.id, "line": line.number, "error": line.error})
                continue
            outputs.append(verdict_line(line.id, line.number, next(answers)))
        return outputs


def verdict_line(comment_id: Any, number: int, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": comment_id,
        "decision": verdict.decision.value,
        "rules": verdict.fired,
        "scores": {slug: round(score, 4) for slug, score in verdict.scores.items()},
        "evidence": [item.to_dict() for item in verdict.evidence],
        "unavailable": verdict.unavailable,
        "language": verdict.language,
        "stage": verdict.stage,
        "line": number,
        "engine_version": verdict.engine_version,
        "policy_version": verdict.policy_version,
    }


def _lines(source: IO[bytes]) -> Iterator[tuple[bytes | None, int]]:
    """Lines of ``source`` without their terminator, with their size in bytes; a final empty
    line is not a line. A line over ``MAX_LINE_BYTES`` is skipped without being held in
    memory and comes back as ``None``."""
    while True:
        raw = source.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            size = len(raw)
            while True:
                chunk = source.readline(1 << 20)
                size += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield None, size
            continue
        yield (raw.rstrip(b"\r\n") if raw.endswith(b"\n") else raw), len(raw)


def parse_comment(data: dict[str, Any], *, number: int, default_time: datetime) -> Comment:
    """Build a :class:`Comment` from one input object, or raise :class:`InputError`."""
    raw_id = data.get("id")
    if (raw_id is not None and not isinstance(raw_id, str | int | float)) or isinstance(
        raw_id, bool
    ):
        raise InputError("'id' must be a string or a number")
    comment_id = str(raw_id) if raw_id is not None else f"line:{number}"
    if "text" not in data:
        raise InputError("missing 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise InputError(f"'text' must be a string, got {_kind(text)}")
    author = data.get("author")
    if author is None:
        author = ""
    elif isinstance(author, int | float) and not isinstance(author, bool):
        author = str(author)
    elif not isinstance(author, str):
        raise InputError(f"'author' must be a string, got {_kind(author)}")
    created_at = _timestamp(data.get("created_at")) or default_time
    return Comment(
        text=text,
        author_id=author,
        created_at=created_at,
        parent_text=_optional_text(data, "parent_text"),
        article=_article(data.get("article")),
        id=comment_id,
        language=_optional_text(data, "lang").strip().lower(),
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _optional_text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"'{key}' must be a string, got {_kind(value)}")
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"'created_at' must be an ISO 8601 string, got {_kind(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(f"'created_at' is not an ISO 8601 date-time: {value[:40]!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _article(value: Any) -> Article | None:
    if value is None:
        return None
    if isinstance(value, str):
        article = Article(title=value)
    elif isinstance(value, dict):
        parts = {}
        for key in ("title", "lead", "body", "lang", "language", "key", "id", "url"):
            part = value.get(key)
            if part is not None and not isinstance(part, str):
                raise InputError(f"'article.{key}' must be a string, got {_kind(part)}")
            parts[key] = part or ""
        article = Article(
            title=parts["title"],
            lead=parts["lead"],
            body=parts["body"],
            language=(parts["lang"] or parts["language"]).strip().lower(),
            key=parts["key"] or parts["id"] or parts["url"],
        )
    else:
        raise InputError(f"'article' must be a string or an object, got {_kind(value)}")
    if not article.key and article.text:
        # Detectors cache per-article work (the article's embedding) under this key.
        digest = hashlib.sha256(article.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        article = Article(
            article.title, article.lead, article.body, article.language, f"sha256:{digest}"
        )
    return article


# Kept importable for tests that feed the stream from memory.
def moderate_bytes(
    engine: Engine, data: bytes, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> list[dict[str, Any]]:
    stream = Stream(engine, batch_size=batch_size)
    return [
        output
        for outputs, _ in stream.run(io.BytesIO(data), batch_size=batch_size)
        for output in outputs
    ]
