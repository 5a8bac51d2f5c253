"""Scale data: fill PostgreSQL with 1M comments, 50k users and 5k articles, then time the pages
that must stay fast at that size and keep their query plans.

    python benchmarks/scale_data.py                        # generate (COPY), then measure
    python benchmarks/scale_data.py --comments 100000      # smaller, while developing
    python benchmarks/scale_data.py --measure-only         # re-measure an existing database

The database (--database-url, default postgres://postgres@127.0.0.1:5432/civility_scale) is
dropped, re-created and migrated. Rows go in with COPY, in id order, with the shape of a
real site: threads follow a heavy-tailed popularity (a few articles get thousands of
comments), 15% of comments are replies, 90% are published, 4% removed, 1% deleted and 5%
pending (most held for a moderator, some still awaiting the engine). Readers recommend a
third of the published comments (heavy-tailed: most get one or two, a few hundreds), and one
thread in twenty has up to three editors' picks; these come from a random generator of their
own, so the comments are the same rows as before they were added.

Measured (Django test client in this process, read cache off, warm): the article thread page,
the JSON comment listing, and the moderator queue pages, p50 and p95 over --repeat requests;
then EXPLAIN (ANALYZE, BUFFERS) of the slowest queries each page runs. ``--fragments cold``
(the default) empties the web process's rendered-comment cache (discussion.fragments) before
every request, so each page renders every comment, as after a restart or on a thread nobody
read lately; ``--fragments warm`` keeps it, as for a thread being read. Results:
benchmarks/out/scale/summary.json and plans.txt (figures: benchmarks/SCALE.md).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out" / "scale"
BIN = Path(sys.executable).parent
NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
PASSWORD = "!unusable"  # Django's marker for "no password": nobody signs in as a fake user

WORDS = [
    "the",
    "minister",
    "said",
    "talks",
    "on",
    "the",
    "treaty",
    "would",
    "resume",
    "after",
    "the",
    "summit",
    "while",
    "critics",
    "pointed",
    "to",
    "the",
    "budget",
    "gap",
    "and",
    "the",
    "delays",
    "in",
    "the",
    "rail",
    "project",
    "council",
    "members",
    "asked",
    "for",
    "a",
    "review",
    "of",
    "the",
    "flood",
    "defences",
    "schools",
    "hospitals",
    "region",
    "funding",
    "voters",
    "spring",
    "polls",
    "local",
    "reports",
]


def recreate_and_migrate(url: str, env: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run(
        [str(BIN / "civility"), "manage", "migrate", "--no-input"],
        env=env,
        check=True,
        capture_output=True,
    )


def column_defaults(cursor: Any, table: str) -> dict[str, Any]:
    """A value for every NOT NULL column without a database default (Django keeps defaults in
    Python), so a COPY that names only some columns still fits a table other apps extend."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    filler: dict[str, Any] = {}
    for name, data_type in cursor.fetchall():
        if name == "site_id":
            # Every generated row belongs to the default site (id 1, made by the sites migration).
            filler[name] = 1
        elif data_type == "boolean":
            filler[name] = False
        elif data_type in ("integer", "bigint", "smallint", "double precision", "real"):
            filler[name] = 0
        elif data_type.startswith("timestamp") or data_type == "date":
            filler[name] = NOW
        elif data_type == "jsonb":
            filler[name] = "{}"
        else:
            filler[name] = ""
    return filler


def copy_rows(
    cursor: Any, table: str, rows: Iterator[dict[str, Any]], total: int, label: str
) -> None:
    defaults = column_defaults(cursor, table)
    first = next(rows)
    columns = list(dict.fromkeys([*first.keys(), *defaults.keys()]))
    quoted = ", ".join(f'"{column}"' for column in columns)  # "primary" is a keyword
    statement = f"COPY {table} ({quoted}) FROM STDIN"
    with cursor.copy(statement) as copy, tqdm(total=total, desc=label, unit="row") as bar:
        for row in _chain(first, rows):
            copy.write_row([row.get(c, defaults.get(c)) for c in columns])
            bar.update(1)


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high))).capitalize() + "."


def users(count: int) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "password": PASSWORD,
            "username": f"reader{n}",
            "email": f"reader{n}@scale.example",
            "display_name": f"Reader {n}",
            "is_active": True,
            "date_joined": NOW - datetime.timedelta(days=400),
        }


def email_addresses(count: int) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "user_id": n,
            "email": f"reader{n}@scale.example",
            "verified": True,
            "primary": True,
        }


def articles(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        body = " ".join(sentence(rng, 12, 24) for _ in range(12))
        yield {
            "id": n,
            "slug": f"article-{n}",
            "headline": sentence(rng, 6, 10)[:290],
            "lead": sentence(rng, 14, 24),
            "body": f"<p>{body}</p>",
            "body_text": body,
            "published_at": NOW - datetime.timedelta(minutes=(count - n) * 25),
            "updated_at": NOW,
            "short_code": f"s{n:07d}",
            "source_id": None,
        }


def threads(count: int) -> Iterator[dict[str, Any]]:
    for n in range(1, count + 1):
        yield {
            "id": n,
            "article_id": n,
            "canonical_url": None,
            "title": "",
            "created_at": NOW - datetime.timedelta(minutes=(count - n) * 25),
        }


def comments(
    count: int, article_count: int, user_count: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    # Heavy-tailed thread popularity: the busiest of 5k articles gets about 1% of the comments
    # (some 9k of 1M), the median one about 130.
    weights = [1.0 / (rank + 20) for rank in range(1, article_count + 1)]
    rng.shuffle(weights)
    thread_ids = rng.choices(range(1, article_count + 1), weights=weights, k=count)
    recent_top_level: dict[int, list[tuple[int, int]]] = {}
    start = NOW - datetime.timedelta(days=90)
    step = datetime.timedelta(days=90) / count
    for n in range(1, count + 1):
        thread_id = thread_ids[n - 1]
        parents = recent_top_level.setdefault(thread_id, [])
        parent: tuple[int, int] | None = None
        if parents and rng.random() < 0.15:
            parent = rng.choice(parents)
        roll = rng.random()
        created = start + step * n
        status, hold_reason, decided_by, rule = "published", "", "engine", ""
        decided_at: datetime.datetime | None = created
        if roll < 0.04:
            status, rule = "rejected", rng.choice(["insult", "spam", "profanity", "threat"])
        elif roll < 0.05:
            status = "deleted"
        elif roll < 0.08:
            status, hold_reason, decided_by, decided_at = "pending", "engine", "", None
        elif roll < 0.09:
            status, hold_reason, decided_by, decided_at = "pending", "premoderation", "", None
        elif roll < 0.10:
            status, hold_reason, decided_by, decided_at = "pending", "", "", None
        depth = 0 if parent is None else min(parent[1] + 1, 8)
        if parent is None and status == "published":
            parents.append((n, 0))
            if len(parents) > 50:
                parents.pop(0)
        text = " ".join(sentence(rng, 8, 20) for _ in range(rng.randint(1, 4)))
        yield {
            "id": n,
            "thread_id": thread_id,
            "parent_id": parent[0] if parent else None,
            "author_id": rng.randint(1, user_count),
            "text": text,
            "depth": depth,
            "status": status,
            "hold_reason": hold_reason,
            "rule": rule,
            "verdict": json.dumps({"decision": "publish" if status == "published" else "queue"}),
            "fired_rules": f",{rule}," if rule else "",
            "engine_version": "scale",
            "policy_version": "scale",
            "engine_checked_at": decided_at,
            "decided_by": decided_by,
            "decided_at": decided_at,
            "moderator_id": None,
            "client_token": "",
            "ip_address": None,
            "author_hidden": False,
            "purged": False,
            "created_at": created,
            "edited_at": None,
        }


def published_comment_ids(cursor: Any) -> list[tuple[int, int]]:
    """(id, author id) of every published comment, in id order."""
    cursor.execute(
        "SELECT id, author_id FROM discussion_comment WHERE status = 'published' ORDER BY id"
    )
    return [(int(pk), int(author)) for pk, author in cursor.fetchall()]


def recommendations(
    published: list[tuple[int, int]], user_count: int, rng: random.Random
) -> Iterator[dict[str, Any]]:
    """A third of the published comments recommended, by a heavy-tailed number of readers
    (Pareto: most by one or two, a few by hundreds), never by their author."""
    row_id = 0
    for comment_id, author_id in published:
        if rng.random() >= 1 / 3:
            continue
        count = min(int(rng.paretovariate(1.3)), 400)
        readers = {rng.randint(1, user_count) for _ in range(count)} - {author_id}
        for user_id in sorted(readers):
            row_id += 1
            yield {
                "id": row_id,
                "comment_id": comment_id,
                "user_id": user_id,
                "created_at": NOW,
            }


def feature_picks(cursor: Any, article_count: int, rng: random.Random) -> None:
    """One thread in twenty gets up to three editors' picks among its published top-level
    comments."""
    threads = sorted(rng.sample(range(1, article_count + 1), max(1, article_count // 20)))
    cursor.execute(
        "UPDATE discussion_comment SET featured_at = created_at + interval '1 hour' "
        "WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY thread_id "
        "ORDER BY recommendations DESC, id) AS n FROM discussion_comment "
        "WHERE thread_id = ANY(%s) AND parent_id IS NULL AND status = 'published') AS ranked "
        "WHERE n <= 3)",
        [threads],
    )


def generate(args: argparse.Namespace, env: dict[str, str]) -> dict[str, float]:
    import psycopg

    started = time.monotonic()
    recreate_and_migrate(args.database_url, env)
    rng = random.Random(1_000_000)
    timings: dict[str, float] = {"migrate_s": round(time.monotonic() - started, 1)}
    with psycopg.connect(args.database_url) as connection, connection.cursor() as cursor:
        for table, rows, total in (
            ("accounts_user", users(args.users), args.users),
            ("account_emailaddress", email_addresses(args.users), args.users),
            ("news_article", articles(args.articles, rng), args.articles),
            ("discussion_thread", threads(args.articles), args.articles),
            (
                "discussion_comment",
                comments(args.comments, args.articles, args.users, rng),
                args.comments,
            ),
        ):
            table_started = time.monotonic()
            copy_rows(cursor, table, rows, total, table)
            timings[f"{table}_copy_s"] = round(time.monotonic() - table_started, 1)
        extras = random.Random(2_000_000)
        table_started = time.monotonic()
        published = published_comment_ids(cursor)
        copy_rows(
            cursor,
            "discussion_recommendation",
            recommendations(published, args.users, extras),
            len(published) // 3,
            "discussion_recommendation",
        )
        cursor.execute(
            "UPDATE discussion_comment AS c SET recommendations = r.total FROM "
            "(SELECT comment_id, count(*) AS total FROM discussion_recommendation "
            "GROUP BY comment_id) AS r WHERE c.id = r.comment_id"
        )
        feature_picks(cursor, args.articles, extras)
        timings["recommendations_and_picks_s"] = round(time.monotonic() - table_started, 1)
        for table in ("accounts_user", "account_emailaddress", "news_article"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        for table in ("discussion_thread", "discussion_comment", "discussion_recommendation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        connection.commit()
    with psycopg.connect(args.database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    timings["total_s"] = round(time.monotonic() - started, 1)
    return timings


# --- Measuring --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def timed(get: Callable[[], Any], repeat: int) -> dict[str, float]:
    get()  # warm: connections, templates, the plan cache
    samples, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = get()
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, response.status_code
    return {
        # The page's weight: a signed-in reader's page once carried a form or two per comment.
        "kb": round(len(response.content) / 1024, 1),
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
        # This process's CPU time per request (the database's is not in it): what the wall
        # clock comes down to on a quiet machine, and what a busy one does not change much.
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "n": repeat,
    }


def _next_link(client: Any, url: str) -> str:
    """The target of a page's "Next" link (the queue pages carry a cursor in it)."""
    import html
    import re

    with override_all_hosts():
        page = client.get(url).content.decode()
    found = re.search(r'<a href="\?([^"]*)" rel="next">', page)
    assert found is not None, f"{url}: no next link"
    return url.split("?", 1)[0] + "?" + html.unescape(found[1])


def override_all_hosts() -> Any:
    from django.test.utils import override_settings

    return override_settings(CIVILITY_READ_CACHE_SECONDS=0, ALLOWED_HOSTS=["*"])


def _getter(client: Any, url: str, cold_fragments: bool) -> Callable[[], Any]:
    from civility.discussion import fragments

    def get() -> Any:
        if cold_fragments:
            fragments.CACHE.clear()
        return client.get(url)

    return get


def _recommend_some(reader: Any, thread_id: int) -> None:
    """The measured reader recommends every fifth published top-level comment of the
    thread (the page then marks theirs: one more query, over the shown comments)."""
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import recommend_comment

    top = (
        Comment.objects.filter(
            thread_id=thread_id, parent__isnull=True, status=CommentStatus.PUBLISHED
        )
        .exclude(author=reader)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    for pk in list(top)[::5][:60]:
        recommend_comment(comment=Comment.objects.get(pk=pk), reader=reader)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from civility.accounts.commands.createuser import create_user
    from civility.discussion.models import Comment

    sizes = list(
        Comment.objects.values("thread_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("thread_id", "n")
    )
    biggest_thread, biggest = sizes[0]
    median_thread, median = sizes[len(sizes) // 2]
    moderator_email = "moderator@scale.example"
    from django.contrib.auth import get_user_model

    moderator = get_user_model().objects.filter(email=moderator_email).first() or create_user(
        moderator_email, "scale-moderator-password", moderator=True
    )
    # A verified reader with no comment of their own: the comment form, the page's reply and
    # report forms and each comment's Reply and Report links are rendered. Since 29 November
    # 22:00 such a reader (no comment out of public view on the thread) reads the cached
    # anonymous "most replies" order; a reader with held comments there has it counted on
    # every request, which this read-only measurement does not set up (benchmarks/SCALE.md).
    reader_email = "reader@scale.example"
    reader = get_user_model().objects.filter(email=reader_email).first() or create_user(
        reader_email, "scale-reader-password"
    )
    _recommend_some(reader, biggest_thread)
    anonymous, signed_in, reading = Client(), Client(), Client()
    signed_in.force_login(moderator)
    reading.force_login(reader)
    pages: dict[str, tuple[Client, str]] = {
        f"article page, biggest thread ({biggest} comments)": (
            anonymous,
            f"/news/article-{biggest_thread}/",
        ),
        f"article page, median thread ({median} comments)": (
            anonymous,
            f"/news/article-{median_thread}/",
        ),
        f"comment section, biggest thread ({biggest} comments)": (
            anonymous,
            f"/news/article-{biggest_thread}/discussion/",
        ),
        f"comment section page 20, biggest thread ({biggest} comments)": (
            anonymous,
            f"/news/article-{biggest_thread}/discussion/?cpage=20",
        ),
        f"comment section, most replies, biggest thread ({biggest} comments)": (
            anonymous,
            f"/news/article-{biggest_thread}/discussion/?sort=replies",
        ),
        f"comment section, signed-in reader, biggest thread ({biggest} comments)": (
            reading,
            f"/news/article-{biggest_thread}/discussion/",
        ),
        f"comment section, most replies, signed-in reader, biggest thread ({biggest} comments)": (
            reading,
            f"/news/article-{biggest_thread}/discussion/?sort=replies",
        ),
        f"comment section, most replies, page 40, signed-in reader ({biggest} comments)": (
            reading,
            f"/news/article-{biggest_thread}/discussion/?sort=replies&cpage=40",
        ),
        f"comment section, most recommended, biggest thread ({biggest} comments)": (
            anonymous,
            f"/news/article-{biggest_thread}/discussion/?sort=recommended",
        ),
        f"comment section, most recommended, signed-in reader, biggest thread ({biggest} comments)": (
            reading,
            f"/news/article-{biggest_thread}/discussion/?sort=recommended",
        ),
        f"API comments page 1, biggest thread ({biggest})": (
            anonymous,
            f"/api/articles/article-{biggest_thread}/comments?page_size=50",
        ),
        "moderator queue: pending": (signed_in, "/moderation/queue/pending/"),
        "moderator queue: editors' picks": (signed_in, "/moderation/queue/featured/"),
        "moderator queue: rejected": (signed_in, "/moderation/queue/rejected/"),
        "moderator queue: all": (signed_in, "/moderation/queue/all/"),
        "moderator queue: pending, page 20": (signed_in, "/moderation/queue/pending/?page=20"),
        # Page 20 the way a moderator reaches it: page 19's "Next" link (a cursor).
        "moderator queue: pending, page 20 by its Next link": (
            signed_in,
            _next_link(signed_in, "/moderation/queue/pending/?page=19"),
        ),
        "moderator queue: pending, rule filter": (
            signed_in,
            "/moderation/queue/pending/?rule=insult",
        ),
        "moderator queue: rejected, rule filter": (
            signed_in,
            "/moderation/queue/rejected/?rule=insult",
        ),
    }
    results: dict[str, Any] = {}
    plans: list[str] = []
    with override_all_hosts():
        for name, (client, url) in pages.items():
            print(f"measuring {name}: {url}", flush=True)
            results[name] = {
                "url": url,
                **timed(_getter(client, url, args.fragments == "cold"), args.repeat),
            }
            with CaptureQueriesContext(connection) as captured:
                client.get(url)
            queries = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
            results[name]["queries"] = len(queries)
            for query in queries[:2]:
                sql = query["sql"]
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                plans.append(f"## {name} ({query['time']} s)\n{sql}\n\n{plan}\n")
    (OUT / "plans.txt").write_text("\n".join(plans), encoding="utf-8")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--articles", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=30, help="requests per page measured")
    parser.add_argument(
        "--fragments",
        choices=["cold", "warm"],
        default="cold",
        help="empty the rendered-comment cache before each request (cold, default) or keep it",
    )
    parser.add_argument("--measure-only", action="store_true")
    parser.add_argument("--generate-only", action="store_true")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CIVILITY_SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civility_scale"
        ),
    )
    parser.add_argument("--measure", dest="in_process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVILITY_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="civility.config.settings",
        CIVILITY_DATABASE_URL=args.database_url,
        CIVILITY_DATA_DIR=str(OUT / "data"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]),
    )
    if args.in_process:  # the measuring half, run in a subprocess with Django configured
        results = measure(args)
        print(json.dumps(results))
        return 0
    summary: dict[str, Any] = {
        "fragments": args.fragments,
        "comments": args.comments,
        "users": args.users,
        "articles": args.articles,
    }
    summary_file = OUT / "summary.json"
    if summary_file.exists() and args.measure_only:
        summary = {**json.loads(summary_file.read_text()), **summary}
    if args.measure_only:  # the code may have gained migrations since the data was made
        subprocess.run(
            [str(BIN / "civility"), "manage", "migrate", "--no-input"],
            env=env,
            check=True,
            capture_output=True,
        )
    else:
        summary["generate"] = generate(args, env)
        print(json.dumps(summary["generate"]), flush=True)
    if not args.generate_only:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure",
                "--repeat",
                str(args.repeat),
                "--fragments",
                args.fragments,
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        summary["pages"] = json.loads(output.stdout.strip().splitlines()[-1])
        for name, figures in summary["pages"].items():
            print(
                f"{name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms,"
                f" cpu p50 {figures['cpu_p50_ms']} ms, {figures['queries']} queries,"
                f" {figures['kb']} kB"
            )
    summary_file.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
