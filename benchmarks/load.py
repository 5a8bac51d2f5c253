"""Load benchmark: Civility in production mode (PostgreSQL, Redis, gunicorn, one Celery worker)
under readers and posters, side by side with Isso driven by the same load generator.

    python benchmarks/load.py                         # Civility, 60 s at 64 connections
    python benchmarks/load.py --target isso           # Isso 0.14 (own venv under benchmarks/out)
    python benchmarks/load.py --target both           # both, then the ratios
    python benchmarks/load.py --duration 10 --users 8 # a short run while developing
    python benchmarks/load.py --generator locust      # locust instead of wrk

The load generator is wrk (benchmarks/wrk/*.lua; ``apt-get install wrk``) when installed,
otherwise locust (benchmarks/locustfile.py): readers with no think time, posters posting twice
a second each (their first posts spread over the first half second). Civility runs in its
production shape (deploy/README.md): posts on a gunicorn pool of their own (``--post-workers``,
2 of the 8 ``--web-workers``; ``--post-workers 0`` runs one pool for all), with the systemd
units' CPU weights: where a cgroup cpu controller can be written (as root), the readers' pool
and the readers' wrk in a cgroup at cpu.weight 10 and the Celery worker in one at 5, while
the posts' pool, PostgreSQL and Redis keep the default 100 (``--cpu-weighting``,
``--cpu-weight``; CpuWeighting); elsewhere the readers' pool at nice 10 (``--web-nice``) and
the worker at nice 10 (``--worker-nice``), which orders them only within this session's
scheduler autogroup. The run prints which it used.

Needs PostgreSQL and Redis (--database-url, --redis-url; the database is dropped and
re-created). Readers fetch a 200-comment thread; posters post comments to ten other threads.
After the run the worker drains its queue and the script checks that every accepted comment
has a decision, and that none was decided twice. Results: benchmarks/out/load/<label>.json and
a summary table on stdout (benchmarks/LOAD.md keeps the figures).

Internal subcommands (run in a subprocess with Django configured): ``seed`` and ``count``.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
OUT = BENCH / "out" / "load"
BIN = Path(sys.executable).parent
ISSO_VERSION = "0.14.0"
THREAD_SLUG = "load-thread-200"
# Without a writable cgroup cpu controller, the readers' pool runs at this niceness against
# the posters' pool (deploy/README.md: the units' CPUWeight= in production).
WEB_NICE = 10
# With one (CpuWeighting), the units' CPUWeight= (deploy/systemd), cgroup v2 cpu.weight units
# (default 100): the readers' pool and their load generator at 10, the Celery worker at 5; the
# posters' pool, PostgreSQL and Redis keep the default.
CPU_WEIGHTS = {"readers": 10, "read-generator": 10, "worker": 5, "posts": 100}
CGROUP_PREFIX = "civility-load"
POST_SLUGS = [f"load-post-{n}" for n in range(10)]


def post_slugs(args: argparse.Namespace) -> list[str]:
    """Where the posters post: ten other threads, or the readers' own (--post-to-read-thread)."""
    return [THREAD_SLUG] if args.post_to_read_thread else POST_SLUGS


ISSO_READ_URI = "/news/load-thread-200/"
# What a Civility reader fetches: the comment section fragment (the whole thread, one request:
# what Isso's reader gets), or the JSON listing (100 comments at most per request: two
# requests make one whole-thread read).
READ_PATHS = {
    "section": [f"/news/{THREAD_SLUG}/discussion/"],
    "api": [
        f"/api/articles/{THREAD_SLUG}/comments?page_size=100&page=1",
        f"/api/articles/{THREAD_SLUG}/comments?page_size=100&page=2",
    ],
}


# --- The shared thread -------------------------------------------------------------------------

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
    "and",
    "hospitals",
    "in",
    "the",
    "region",
    "need",
    "funding",
    "voters",
    "will",
    "decide",
    "in",
    "spring",
    "according",
    "to",
    "the",
    "latest",
    "polls",
    "and",
    "local",
    "reports",
]


def thread_comments(count: int) -> list[tuple[str, int | None, str]]:
    """The same thread for both systems: (text, index of the parent or None, author name).

    Four in five comments are top-level, the others reply to an earlier top-level comment.
    """
    rng = random.Random(200)
    comments: list[tuple[str, int | None, str]] = []
    top_level: list[int] = []
    for index in range(count):
        sentences = [
            " ".join(rng.choices(WORDS, k=rng.randint(10, 22))).capitalize() + "."
            for _ in range(rng.randint(2, 5))
        ]
        text = " ".join(sentences)
        if rng.random() < 0.1:
            text += "\n\nSee *the report* for details."
        parent = rng.choice(top_level) if top_level and rng.random() < 0.2 else None
        if parent is None:
            top_level.append(index)
        comments.append((text, parent, f"Reader {index % 40 + 1}"))
    return comments


# --- Subcommands that run with Django configured ------------------------------------------------


def seed(args: argparse.Namespace) -> int:
    """Create the articles, the 200-comment thread and the posters with their API tokens."""
    import django

    django.setup()
    from django.utils import timezone

    from civility.accounts.commands.createuser import create_user
    from civility.discussion.models import Comment, CommentStatus
    from civility.discussion.services import issue_api_token, thread_for_article
    from civility.news.models import Article

    def article(slug: str, headline: str) -> Any:
        return Article.objects.create(
            slug=slug,
            headline=headline,
            lead="Ministers met on Monday to resume talks on the treaty and the budget.",
            body="<p>The ministers met on Monday to resume talks on the treaty. Critics pointed "
            "to the budget gap and the delays in the rail project.</p>",
        )

    thread = thread_for_article(article(THREAD_SLUG, "Talks on the treaty resume after summit"))
    for slug in POST_SLUGS:
        thread_for_article(article(slug, f"Council debates the budget ({slug})"))
    commenters = [
        create_user(f"reader{n}@load.example", "load-test-password", display_name=f"Reader {n}")
        for n in range(1, 41)
    ]
    created: list[Comment] = []
    now = timezone.now()
    for index, (text, parent, _author) in enumerate(thread_comments(args.comments)):
        parent_comment = created[parent] if parent is not None else None
        comment = Comment.objects.create(
            thread=thread,
            parent=parent_comment,
            author=commenters[index % len(commenters)],
            text=text,
            depth=1 if parent_comment else 0,
            status=CommentStatus.PUBLISHED,
            decided_by="engine",
            decided_at=now,
            created_at=now - datetime.timedelta(seconds=args.comments - index),
        )
        created.append(comment)
    tokens = []
    for n in range(args.posters):
        poster = create_user(f"poster{n}@load.example", "load-test-password")
        raw, _token = issue_api_token(poster, name="load")
        tokens.append(raw)
    Path(args.tokens_file).write_text("\n".join(tokens) + "\n", encoding="utf-8")
    last = Comment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    print(json.dumps({"last_seeded_comment_id": last, "thread_comments": len(created)}))
    return 0


def count(args: argparse.Namespace) -> int:
    """Comments posted during the run: accepted, decided, undecided, decided twice."""
    import django

    django.setup()
    from django.db.models import Count

    from civility.discussion.models import Comment, CommentStatus, HoldReason
    from civility.moderation.models import AuditLog

    posted = Comment.objects.filter(pk__gt=args.after)
    undecided = posted.filter(
        status=CommentStatus.PENDING,
        hold_reason__in=[HoldReason.AWAITING_ENGINE, HoldReason.EDITED],
    ).count()
    accepted = posted.count()
    posted_ids = [str(pk) for pk in posted.values_list("pk", flat=True)]
    twice = (
        AuditLog.objects.filter(action="comment.engine_decision", target_id__in=posted_ids)
        .values("target_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    statuses = dict(
        posted.values("status").annotate(n=Count("id")).order_by().values_list("status", "n")
    )
    print(
        json.dumps(
            {
                "accepted": accepted,
                "decided": accepted - undecided,
                "undecided": undecided,
                "decided_twice": twice,
                "statuses": statuses,
            }
        )
    )
    return 0


# --- CPU weighting ---------------------------------------------------------------------------------


class CpuWeighting:
    """Production's CPU shares on this host: the units' ``CPUWeight=`` (deploy/systemd) as
    cgroups of the cpu controller, or niceness where no cgroup can be written.

    ``nice`` only orders processes within one scheduler autogroup
    (``kernel.sched_autogroup_enabled``): every session is one, and PostgreSQL's backends (one
    session each: the postmaster's children call setsid) and Redis are others. A reader niced
    to 10 yields to the posters' pool, but not to the PostgreSQL backend or Redis a post waits
    for at each round trip, and the posts' pool is one autogroup among the readers', so a post
    waits for a core at each step. A cgroup weighs its processes against every other group on
    the host, as systemd's ``CPUWeight=`` does: readers and their load generator at 10, the
    worker at 5, and the posters' pool, PostgreSQL and Redis at the default 100 go first.

    cgroup v2 (``cpu.weight``) where its cpu controller is available, else cgroup v1
    (``cpu.shares``, 1024 for weight 100); each role with a weight other than 100 gets a group
    of its own under the hierarchy's root, named after this process, removed by close() (stale
    ones of dead runs at the next start).
    """

    def __init__(self, weights: dict[str, int], mode: str) -> None:
        self.weights = weights
        self.mode = mode  # "auto", "cgroup" or "nice"
        self.kind = "nice"
        self.root: Path | None = None
        self.groups: dict[str, Path] = {}
        self.error = ""
        if mode != "nice":
            self._create()
        if mode == "cgroup" and self.kind == "nice":
            raise SystemExit(f"--cpu-weighting cgroup: no writable cpu controller ({self.error})")

    @staticmethod
    def _mounts() -> list[tuple[str, Path, list[str]]]:
        mounts = []
        for line in Path("/proc/self/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) >= 4 and fields[2] in ("cgroup", "cgroup2"):
                mounts.append((fields[2], Path(fields[1]), fields[3].split(",")))
        return mounts

    def _candidates(self) -> list[tuple[str, Path]]:
        found: list[tuple[str, Path]] = []
        for kind, path, options in self._mounts():
            if kind == "cgroup2":
                controllers = (path / "cgroup.controllers").read_text().split()
                if "cpu" in controllers:
                    found.insert(0, ("cgroup v2 cpu.weight", path))
            elif "cpu" in options:
                found.append(("cgroup v1 cpu.shares", path))
        return found

    def _value(self, weight: int) -> tuple[str, str]:
        if self.kind.startswith("cgroup v2"):
            return "cpu.weight", str(weight)
        return "cpu.shares", str(max(2, round(weight * 1024 / 100)))

    def _create(self) -> None:
        for kind, root in self._candidates():
            self.kind, self.root = kind, root
            try:
                self._remove_stale()
                if kind.startswith("cgroup v2"):
                    enabled = (root / "cgroup.subtree_control").read_text().split()
                    if "cpu" not in enabled:
                        (root / "cgroup.subtree_control").write_text("+cpu")
                for role, weight in self.weights.items():
                    if weight == 100:
                        continue
                    group = root / f"{CGROUP_PREFIX}-{os.getpid()}-{role}"
                    group.mkdir(exist_ok=True)
                    self.groups[role] = group
                    name, value = self._value(weight)
                    (group / name).write_text(value)
                return
            except OSError as error:
                self.error = f"{root}: {error}"
                self.close()
        self.kind, self.root = "nice", None

    def _remove_stale(self) -> None:
        assert self.root is not None
        for group in self.root.glob(f"{CGROUP_PREFIX}-*-*"):
            pid = group.name.removeprefix(f"{CGROUP_PREFIX}-").split("-", 1)[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                self._remove(group)

    def _remove(self, group: Path) -> None:
        assert self.root is not None
        for _attempt in range(50):
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    with contextlib.suppress(OSError):  # it may have exited meanwhile
                        (self.root / "cgroup.procs").write_text(pid)
            try:
                group.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        print(f"warning: could not remove {group}")

    def close(self) -> None:
        for group in self.groups.values():
            self._remove(group)
        self.groups = {}

    @property
    def cgroups(self) -> bool:
        return self.kind != "nice"

    def preexec(self, role: str) -> Any:
        """For Popen(preexec_fn=): the child joins the role's group before it runs the command,
        so that everything it forks (gunicorn's workers) starts there."""
        group = self.groups.get(role)
        if group is None:
            return None
        procs = group / "cgroup.procs"

        def join() -> None:
            procs.write_text(str(os.getpid()))

        return join

    def nice(self, role: str, nice: int) -> int:
        """The niceness a role still runs at: none for a role weighted by a cgroup of its own
        (within its group nothing competes with it but itself), except the worker, which keeps
        its unit's Nice=10."""
        if self.cgroups and role in self.groups and role != "worker":
            return 0
        return nice

    def describe(self) -> str:
        if not self.cgroups:
            reason = f" ({self.error})" if self.error else ""
            return f"nice: readers' pool and worker reniced{reason}"
        parts = [f"{role} {self._value(weight)[1]}" for role, weight in self.weights.items()]
        return f"{self.kind} under {self.root}: " + ", ".join(parts) + " (others: default)"

    def summary(self) -> dict[str, Any]:
        return {
            "mechanism": self.kind,
            "cpu_weight": dict(self.weights) if self.cgroups else {},
            "groups": {role: str(group) for role, group in self.groups.items()},
        }


def parse_weights(values: list[str]) -> dict[str, int]:
    weights = dict(CPU_WEIGHTS)
    for value in values:
        role, _, weight = value.partition("=")
        if role not in CPU_WEIGHTS or not weight.isdigit() or not 1 <= int(weight) <= 10000:
            raise SystemExit(
                f"--cpu-weight {value}: ROLE=1..10000, ROLE one of {list(CPU_WEIGHTS)}"
            )
        weights[role] = int(weight)
    return weights


# --- Processes ------------------------------------------------------------------------------------


def run_quiet(command: list[str], env: dict[str, str], log: Path) -> str:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])}... failed; see {log}\n{result.stderr[-2000:]}")
    return result.stdout


def start(
    command: list[str],
    env: dict[str, str],
    log: Path,
    *,
    nice: int = 0,
    preexec: Any = None,
) -> subprocess.Popen[bytes]:
    """A server in its own process group (stopped as a whole) but in this session: Linux
    schedules each session as one group (autogroup), and nice only orders processes within
    a group, so the web, the worker and the load generator share this one and ``nice``
    lowers a process against the others (the Celery worker: decisions may wait a moment,
    readers should not). ``preexec``: CpuWeighting.preexec(role), a cgroup to start in."""
    handle = log.open("wb")
    if nice:
        command = ["nice", "-n", str(nice), *command]
    return subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=handle,
        stderr=subprocess.STDOUT,
        process_group=0,
        preexec_fn=preexec,
    )


def stop(process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def wait_http(url: str, seconds: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited; see {log}\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s; see {log}")


def wait_warm(log: Path, workers: int, seconds: float) -> None:
    """Wait until every gunicorn worker has warmed up (deploy/gunicorn.conf.py logs "web
    process warmed" once its engine, URLconf and broker connection are loaded): the first
    worker answers /healthz while the others still load, and their loading would otherwise
    share the cores with the first seconds of the run."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count("web process warmed") >= workers:
            return
        time.sleep(0.5)
    print(f"warning: not every web worker warmed within {seconds:.0f} s; see {log}")


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def locust(
    args: argparse.Namespace,
    label: str,
    host: str,
    env: dict[str, str],
) -> dict[str, dict[str, float]]:
    prefix = OUT / label
    command = [
        # LOCUST: a locust from another environment (requirements/bench.txt pins it).
        os.environ.get("LOCUST") or str(BIN / "locust"),
        "-f",
        str(BENCH / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.users),
        "--run-time",
        f"{args.duration}s",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    run_env = {
        **env,
        "LOAD_READER_WEIGHT": str(args.users - args.posters),
        "LOAD_POSTER_WEIGHT": str(args.posters),
        "LOAD_POSTS_PER_USER": str(args.posts_per_user),
    }
    log = OUT / f"{label}-locust.log"
    load_before = os.getloadavg()[0]
    with log.open("wb") as handle:
        subprocess.run(command, env=run_env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    # The machine is shared: the 1-minute load average goes with every figure.
    stats: dict[str, dict[str, float]] = {
        "machine": {"load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    }
    with (OUT / f"{label}_stats.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = {"read thread": "read", "post comment": "post", "Aggregated": "all"}.get(
                row["Name"]
            )
            if name is None:
                continue
            stats[name] = {
                "requests": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "req_per_s": round(float(row["Requests/s"]), 1),
                "p50_ms": float(row["50%"]),
                "p95_ms": float(row["95%"]),
                "p99_ms": float(row["99%"]),
                "mean_ms": round(float(row["Average Response Time"]), 1),
            }
    failures = OUT / f"{label}_failures.csv"
    if failures.exists():
        stats.setdefault("all", {})["failure_kinds"] = len(failures.read_text().splitlines()) - 1
    return stats


def cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the live processes of each process group,
    by PostgreSQL and Redis (by name) and by the load generator: what each part of the set-up
    costs, whatever the rest of a shared machine does."""
    import resource

    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys([*groups, "postgresql", "redis"], 0.0)
    # The load generator's processes have ended and been waited for when this is read after
    # the run: they count among this process's children.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals["generator"] = children.ru_utime + children.ru_stime
    by_group = {pgid: name for name, pgid in groups.items()}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1]
        values = fields.split()
        seconds = (int(values[11]) + int(values[12])) / tick
        name = by_group.get(int(values[2]))
        if name is None and command.startswith("postgres"):
            name = "postgresql"
        if name is None and command.startswith("redis-server"):
            name = "redis"
        if name is not None:
            totals[name] += seconds
    return totals


def cpu_per_request(
    before: dict[str, float], after: dict[str, float], stats: dict[str, dict[str, float]]
) -> dict[str, float]:
    """CPU seconds of each part during the run, and the web's CPU milliseconds per request."""
    # (A process that ended during the run takes its CPU seconds with it: PostgreSQL's
    # backends of short connections are missed, hence the floor at 0.)
    used = {name: round(max(0.0, after[name] - before.get(name, 0.0)), 2) for name in after}
    requests = stats.get("all", {}).get("requests", 0.0)
    if requests and "web" in used:
        used["web_ms_per_request"] = round(1000 * used["web"] / requests, 2)
    if "web_posts" in used:  # two pools: the readers' and the posters'
        reads, posts = (stats.get(k, {}).get("requests", 0.0) for k in ("read", "post"))
        used.pop("web_ms_per_request", None)
        if reads:
            used["web_ms_per_read"] = round(1000 * used["web"] / reads, 2)
        if posts:
            used["web_posts_ms_per_post"] = round(1000 * used["web_posts"] / posts, 2)
    return used


def wrk(
    args: argparse.Namespace,
    label: str,
    host: str,
    env: dict[str, str],
) -> dict[str, dict[str, float]]:
    """The same load with wrk: two processes side by side, readers (``users - posters``
    connections, no think time) and posters (one connection and thread each, waiting
    1 / ``posts_per_user`` s after each post). The Lua scripts in benchmarks/wrk/ write wrk's
    own latency percentiles as JSON. wrk costs a fraction of locust's CPU per request, which
    matters when the generator shares the two cores with the server."""
    binary = os.environ.get("WRK") or shutil.which("wrk") or "wrk"
    scripts = BENCH / "wrk"
    readers = args.users - args.posters
    runs: dict[str, tuple[list[str], Path]] = {}
    if readers > 0:
        runs["read"] = (
            [
                binary,
                f"-t{min(2, readers)}",
                f"-c{readers}",
                f"-d{args.duration}s",
                "--timeout",
                "60s",
                "-s",
                str(scripts / "readers.lua"),
                host,
            ],
            OUT / f"{label}-wrk-read.json",
        )
    if args.posters > 0:
        runs["post"] = (
            [
                binary,
                f"-t{args.posters}",
                f"-c{args.posters}",
                f"-d{args.duration}s",
                "--timeout",
                "60s",
                "-s",
                str(scripts / "posters.lua"),
                env.get("LOAD_POST_HOST") or host,
            ],
            OUT / f"{label}-wrk-post.json",
        )
    load_before = os.getloadavg()[0]
    processes = []
    for kind, (command, out) in runs.items():
        out.unlink(missing_ok=True)
        run_env = {
            **env,
            "LOAD_WRK_OUT": str(out),
            "LOAD_POSTS_PER_USER": str(args.posts_per_user),
            "LOAD_POSTERS": str(args.posters),
            "LOAD_READ_ENCODING": args.read_encoding,
        }
        log = (OUT / f"{label}-wrk-{kind}.log").open("wb")
        # The readers' generator stands for browsers on other hosts: with cgroups, it takes
        # the readers' share, not the posts'.
        weighting: CpuWeighting | None = getattr(args, "weighting", None)
        preexec = weighting.preexec("read-generator") if weighting and kind == "read" else None
        processes.append(
            subprocess.Popen(
                command,
                env=run_env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=preexec,
            )
        )
    for process in processes:
        process.wait()
    stats: dict[str, dict[str, float]] = {
        "machine": {"load_average_before": load_before, "load_average_after": os.getloadavg()[0]}
    }
    total: dict[str, float] = {"requests": 0.0, "failures": 0.0, "req_per_s": 0.0}
    for kind, (_command, out) in runs.items():
        if not out.exists():
            raise SystemExit(f"wrk wrote no figures; see {OUT / f'{label}-wrk-{kind}.log'}")
        figures = json.loads(out.read_text(encoding="utf-8"))
        seconds = figures["duration_us"] / 1e6
        stats[kind] = {
            "requests": float(figures["requests"]),
            "failures": float(figures["errors"]),
            "req_per_s": round(figures["requests"] / seconds, 1),
            "p50_ms": round(figures["latency_p50_us"] / 1000, 1),
            "p95_ms": round(figures["latency_p95_us"] / 1000, 1),
            "p99_ms": round(figures["latency_p99_us"] / 1000, 1),
            "mean_ms": round(figures["latency_mean_us"] / 1000, 1),
            "max_ms": round(figures["latency_max_us"] / 1000, 1),
        }
        for key in ("requests", "failures", "req_per_s"):
            total[key] += stats[kind][key]
    stats["all"] = total
    return stats


def generate_load(
    args: argparse.Namespace, label: str, host: str, env: dict[str, str]
) -> dict[str, dict[str, float]]:
    if args.generator == "wrk":
        return wrk(args, label, host, env)
    return locust(args, label, host, env)


def base_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CIVILITY_", "DJANGO_"))}
    # A deployed package has its bytecode compiled. With PYTHONDONTWRITEBYTECODE (set in some
    # sandboxes) every gunicorn worker compiled each module it imports: 5.5 s of CPU to start
    # one instead of 2.1 s, on the cores the run measures.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


# --- Civility -------------------------------------------------------------------------------------


def civility_gunicorn(args: argparse.Namespace, workers: int, port: int) -> list[str]:
    """The command of one pool of Civility's gunicorn sync workers on ``port``."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(args.gunicorn_config),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "civility.config.wsgi:application",
    ]


def read_workers(args: argparse.Namespace) -> int:
    """Civility's readers' pool: all of --web-workers, or what the posters' pool leaves of
    them (the same number of processes in all as Isso gets)."""
    return max(1, args.web_workers - args.post_workers)


def run_civility(args: argparse.Namespace) -> dict[str, Any]:
    label = args.label or f"civility-cache{args.read_cache:g}"
    data_dir = OUT / "civility-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    metrics_dir = OUT / "civility-prometheus"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    env = {
        **base_environment(),
        # The whole 200-comment thread (160 top-level comments) on one comment-section page,
        # as Isso serves it in one request.
        "CIVILITY_COMMENTS_PER_PAGE": str(args.comments),
        "CIVILITY_DATABASE_URL": args.database_url,
        "CIVILITY_REDIS_URL": args.redis_url,
        "CIVILITY_DATA_DIR": str(data_dir),
        "CIVILITY_READ_CACHE_SECONDS": str(args.read_cache),
        "CIVILITY_ONNX_THREADS": "1",
        "DJANGO_SETTINGS_MODULE": "load_settings",
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT / "src")]),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_ACCESS_LOG": "",
    }
    print(f"[{label}] database {args.database_url}, Redis {args.redis_url}", flush=True)
    recreate_database(args.database_url)
    flush_redis(args.redis_url)
    run_quiet([str(BIN / "civility"), "manage", "migrate", "--no-input"], env, OUT / "migrate.log")
    tokens_file = OUT / "civility-tokens.txt"
    seeded = json.loads(
        run_quiet(
            [
                sys.executable,
                str(Path(__file__)),
                "seed",
                "--comments",
                str(args.comments),
                "--posters",
                str(args.posters),
                "--tokens-file",
                str(tokens_file),
            ],
            env,
            OUT / "seed.log",
        ).splitlines()[-1]
    )
    weighting: CpuWeighting = args.weighting
    print(f"[{label}] CPU weighting: {weighting.describe()}", flush=True)
    worker_log = OUT / f"{label}-worker.log"
    worker = start(
        [
            str(BIN / "civility"),
            "worker",
            "--concurrency",
            str(args.worker_concurrency),
            "--loglevel",
            "WARNING",
        ],
        env,
        worker_log,
        nice=weighting.nice("worker", args.worker_nice),
        preexec=weighting.preexec("worker"),
    )
    web_log = OUT / f"{label}-gunicorn.log"
    web = start(
        civility_gunicorn(args, read_workers(args), args.port),
        env,
        web_log,
        nice=weighting.nice("readers", args.web_nice),
        preexec=weighting.preexec("readers"),
    )
    host = f"http://127.0.0.1:{args.port}"
    # --post-workers: a second gunicorn for the posters, as a proxy routing POST /api/ to a
    # pool of its own would (its metrics in a directory of their own).
    post_web: subprocess.Popen[bytes] | None = None
    post_host = ""
    post_log = OUT / f"{label}-gunicorn-posts.log"
    if args.post_workers:
        post_host = f"http://127.0.0.1:{args.port + 2}"
        post_web = start(
            civility_gunicorn(args, args.post_workers, args.port + 2),
            {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir) + "-posts"},
            post_log,
            preexec=weighting.preexec("posts"),
        )
    try:
        wait_http(f"{host}/healthz", 180, web, web_log)
        wait_warm(web_log, read_workers(args), 180)
        if post_web is not None:
            wait_http(f"{post_host}/healthz", 180, post_web, post_log)
            wait_warm(post_log, args.post_workers, 180)
        read_paths = READ_PATHS[args.read]
        comments_per_read = []
        for path in read_paths:  # the whole thread is there before the clock starts
            with urllib.request.urlopen(host + path, timeout=30) as response:
                assert response.status == 200
                body = response.read().decode("utf-8")
                comments_per_read.append(
                    body.count("data-comment-id=") or body.count('"parent_id"')
                )
        time.sleep(3)  # let the worker finish loading its engine
        load_env = {
            **base_environment(),
            "LOAD_TARGET": "civility",
            "LOAD_READ_PATHS": ",".join(read_paths),
            "LOAD_POST_PATHS": ",".join(f"/api/articles/{s}/comments" for s in post_slugs(args)),
            "LOAD_TOKENS_FILE": str(tokens_file),
            "LOAD_POST_HOST": post_host,
        }
        print(f"[{label}] {args.duration} s at {args.users} connections...", flush=True)
        groups = {"web": web.pid, "worker": worker.pid}
        if post_web is not None:
            groups["web_posts"] = post_web.pid
        cpu_before = cpu_seconds(groups)
        stats = generate_load(args, label, host, load_env)
        cpu = cpu_per_request(cpu_before, cpu_seconds(groups), stats)
        # Every accepted comment must get its decision: wait for the worker to drain the queue.
        drain_started = time.monotonic()
        counts: dict[str, Any] = {}
        while time.monotonic() - drain_started < args.drain_timeout:
            counts = json.loads(
                run_quiet(
                    [
                        sys.executable,
                        str(Path(__file__)),
                        "count",
                        "--after",
                        str(seeded["last_seeded_comment_id"]),
                    ],
                    env,
                    OUT / "count.log",
                ).splitlines()[-1]
            )
            if counts["undecided"] == 0:
                break
            time.sleep(2)
        counts["drain_seconds"] = round(time.monotonic() - drain_started, 1)
        with urllib.request.urlopen(f"{host}/metrics", timeout=30) as response:
            (OUT / f"{label}-metrics.txt").write_bytes(response.read())
        if post_web is not None:
            with urllib.request.urlopen(f"{post_host}/metrics", timeout=30) as response:
                (OUT / f"{label}-metrics-posts.txt").write_bytes(response.read())
    finally:
        if post_web is not None:
            stop(post_web)
        stop(web)
        stop(worker, timeout=120)
    result = {
        "label": label,
        "target": "civility",
        "settings": {
            "duration_s": args.duration,
            "users": args.users,
            "posters": args.posters,
            "posts_per_poster_per_s": args.posts_per_user,
            "gunicorn_sync_workers": args.web_workers,
            "gunicorn_read_workers": read_workers(args),
            "gunicorn_post_workers": args.post_workers,
            "gunicorn_nice": weighting.nice("readers", args.web_nice),
            "celery_worker_concurrency": args.worker_concurrency,
            "celery_worker_nice": weighting.nice("worker", args.worker_nice),
            "cpu_weighting": weighting.summary(),
            "read_cache_s": args.read_cache,
            "generator": args.generator,
            "read_accept_encoding": args.read_encoding,
            "post_to_read_thread": args.post_to_read_thread,
            "thread_comments": args.comments,
            "read": " | ".join(read_paths),
            "comments_per_read": comments_per_read,
        },
        "stats": stats,
        "cpu_seconds": cpu,
        "comments": counts,
        "engine": engine_summary(
            OUT / f"{label}-metrics.txt",
            *([OUT / f"{label}-metrics-posts.txt"] if args.post_workers else []),
        ),
    }
    (OUT / f"{label}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


def engine_summary(*metrics_files: Path) -> dict[str, float]:
    """Mean engine check time per stage, and the post-to-decision lag, from /metrics (of each
    web pool)."""
    from prometheus_client.parser import text_string_to_metric_families

    sums: dict[str, float] = {}
    text = "\n".join(f.read_text() for f in metrics_files)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in (
                "civility_engine_check_seconds_sum",
                "civility_engine_check_seconds_count",
            ):
                key = f"{sample.labels.get('stage')}_{sample.name.rsplit('_', 1)[1]}"
                sums[key] = sums.get(key, 0.0) + sample.value
            if sample.name.startswith("civility_moderation_decision_lag_seconds_"):
                key = "lag_" + sample.name.rsplit("_", 1)[1]
                if key in ("lag_sum", "lag_count"):
                    sums[key] = sums.get(key, 0.0) + sample.value
    summary: dict[str, float] = {}
    for stage in ("screen", "full"):
        if sums.get(f"{stage}_count"):
            summary[f"{stage}_check_mean_ms"] = round(
                1000 * sums[f"{stage}_sum"] / sums[f"{stage}_count"], 2
            )
            summary[f"{stage}_checks"] = sums[f"{stage}_count"]
    if sums.get("lag_count"):
        summary["decision_lag_mean_s"] = round(sums["lag_sum"] / sums["lag_count"], 2)
    return summary


# --- Isso -----------------------------------------------------------------------------------------


def isso_python() -> str:
    for candidate in (
        "/root/.pyenv/versions/3.12.1/bin/python",
        "/root/.pyenv/versions/3.11.7/bin/python",
    ):
        if Path(candidate).exists():
            return candidate
    return shutil.which("python3.12") or shutil.which("python3.11") or "python3"


def isso_venv() -> Path:
    """Isso from PyPI in its own virtual environment, with gunicorn to serve it."""
    venv = OUT.parent / "isso-venv"
    marker = venv / f".isso-{ISSO_VERSION}"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([isso_python(), "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", f"isso=={ISSO_VERSION}", "gunicorn"],
            check=True,
        )
        marker.touch()
    return venv


def isso_post(host: str, uri: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{host}/new?uri={urllib.parse.quote(uri)}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": host, "Referer": host + uri},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def run_isso(args: argparse.Namespace) -> dict[str, Any]:
    label = args.label or "isso"
    venv = isso_venv()
    data_dir = OUT / "isso-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    host = f"http://127.0.0.1:{args.isso_port}"
    config = data_dir / "isso.cfg"
    config.write_text(
        "\n".join(
            [
                "[general]",
                f"dbpath = {data_dir / 'comments.db'}",
                f"host = {host}/",
                "[server]",
                f"listen = {host}/",
                "[moderation]",
                "enabled = false",
                "[guard]",
                "enabled = false",
                "",
            ]
        ),
        encoding="utf-8",
    )
    env = {**base_environment(), "ISSO_SETTINGS": str(config)}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    web_log = OUT / f"{label}-gunicorn.log"
    web = start(
        [
            str(venv / "bin" / "gunicorn"),
            "--config",
            str(ROOT / "benchmarks" / "isso_gunicorn.conf.py"),
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{args.isso_port}",
            "--preload",
            "--no-control-socket",
            "isso.run",
        ],
        env,
        web_log,
    )
    try:
        wait_http(f"{host}/info", 120, web, web_log)
        ids: list[int] = []
        for text, parent, author in thread_comments(args.comments):
            body: dict[str, Any] = {"text": text, "author": author, "title": "Talks resume"}
            if parent is not None:
                body["parent"] = ids[parent]
            ids.append(int(isso_post(host, ISSO_READ_URI, body)["id"]))
        post_uris = [f"/news/{slug}/" for slug in POST_SLUGS]
        for uri in post_uris:  # threads exist before the run, as Civility's articles do
            isso_post(host, uri, {"text": "First comment on the budget debate.", "title": uri})
        with urllib.request.urlopen(f"{host}/?uri={ISSO_READ_URI}", timeout=60) as response:
            total = json.loads(response.read())["total_replies"]
        load_env = {
            **base_environment(),
            "LOAD_TARGET": "isso",
            "LOAD_READ_PATHS": f"/?uri={ISSO_READ_URI}",
            "LOAD_POST_PATHS": ",".join(
                f"/new?uri={uri}"
                for uri in ([ISSO_READ_URI] if args.post_to_read_thread else post_uris)
            ),
        }
        print(f"[{label}] {args.duration} s at {args.users} connections...", flush=True)
        cpu_before = cpu_seconds({"web": web.pid})
        stats = generate_load(args, label, host, load_env)
        cpu = cpu_per_request(cpu_before, cpu_seconds({"web": web.pid}), stats)
    finally:
        stop(web)
    result = {
        "label": label,
        "target": "isso",
        "settings": {
            "isso": ISSO_VERSION,
            "duration_s": args.duration,
            "users": args.users,
            "posters": args.posters,
            "posts_per_poster_per_s": args.posts_per_user,
            "gunicorn_sync_workers": args.web_workers,
            "generator": args.generator,
            "read_accept_encoding": args.read_encoding,
            "post_to_read_thread": args.post_to_read_thread,
            "thread_comments": args.comments,
            "top_level_replies_served": total,
            "read": "GET /?uri=<thread> (the whole thread)",
        },
        "stats": stats,
        "cpu_seconds": cpu,
    }
    (OUT / f"{label}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


# --- Report ---------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| run | kind | requests | req/s | p50 ms | p95 ms | p99 ms | failures |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        for kind in ("read", "post"):
            s = result["stats"].get(kind)
            if s:
                lines.append(
                    f"| {result['label']} | {kind} | {s['requests']:.0f} | {s['req_per_s']} | "
                    f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | "
                    f"{s['failures']:.0f} |"
                )
    return "\n".join(lines)


def ratios(civility: dict[str, Any], isso: dict[str, Any]) -> dict[str, float]:
    # An Isso read returns the whole thread. A Civility section read does too; the JSON
    # listing returns half of it (page_size is at most 100): two reads make one thread.
    civ_read, isso_read = civility["stats"]["read"], isso["stats"]["read"]
    civ_post, isso_post_stats = civility["stats"]["post"], isso["stats"]["post"]
    reads_per_thread = len(str(civility["settings"]["read"]).split(" | "))
    return {
        "whole_thread_reads_per_s_ratio": round(
            (civ_read["req_per_s"] / reads_per_thread) / max(isso_read["req_per_s"], 1e-9), 1
        ),
        "read_requests_per_s_ratio": round(
            civ_read["req_per_s"] / max(isso_read["req_per_s"], 1e-9), 1
        ),
        "post_p50_ratio_isso_over_civility": round(
            isso_post_stats["p50_ms"] / max(civ_post["p50_ms"], 1), 2
        ),
        "post_p99_ratio_isso_over_civility": round(
            isso_post_stats["p99_ms"] / max(civ_post["p99_ms"], 1), 2
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    seed_parser = sub.add_parser("seed")
    seed_parser.add_argument("--comments", type=int, default=200)
    seed_parser.add_argument("--posters", type=int, default=8)
    seed_parser.add_argument("--tokens-file", required=True)
    count_parser = sub.add_parser("count")
    count_parser.add_argument("--after", type=int, required=True)
    parser.add_argument("--target", choices=["civility", "isso", "both"], default="civility")
    parser.add_argument("--duration", type=int, default=60, help="seconds (default 60)")
    parser.add_argument("--users", type=int, default=64, help="connections (default 64)")
    parser.add_argument("--posters", type=int, default=8, help="of which posting (default 8)")
    parser.add_argument(
        "--posts-per-user", type=float, default=2.0, help="posts/s per poster (0: flat out)"
    )
    parser.add_argument("--comments", type=int, default=200, help="comments in the read thread")
    parser.add_argument(
        "--post-to-read-thread",
        action="store_true",
        help="posters post to the thread the readers read (a hot article: every decision that "
        "publishes clears its cached pages) instead of ten other threads",
    )
    parser.add_argument(
        "--read", choices=sorted(READ_PATHS), default="section", help="what readers fetch"
    )
    parser.add_argument(
        "--read-encoding",
        default="gzip",
        help="Accept-Encoding the wrk readers send, Civility and Isso alike (default gzip, "
        "as browsers do; '' sends none)",
    )
    parser.add_argument(
        "--generator",
        choices=["auto", "wrk", "locust"],
        default="auto",
        help="load generator: wrk (benchmarks/wrk/*.lua) or locust (locustfile.py); "
        "auto: wrk when it is installed",
    )
    parser.add_argument(
        "--web-workers",
        type=int,
        default=8,
        help="gunicorn sync workers, Civility and Isso alike (default 8: a post mostly waits "
        "for PostgreSQL and Redis, and readers should not queue behind it)",
    )
    parser.add_argument(
        "--post-workers",
        type=int,
        default=2,
        help="Civility: serve the posters from a second gunicorn with this many of the "
        "--web-workers (a proxy routing POST /api/ to a pool of its own, the production shape: "
        "deploy/README.md); 0: one pool for all. Default 2 (readers get the other 6)",
    )
    parser.add_argument(
        "--web-nice",
        type=int,
        default=WEB_NICE,
        help="without cgroups (--cpu-weighting nice), the niceness of Civility's readers' "
        "gunicorn: with --post-workers, a positive value gives the posters' pool the larger CPU "
        f"share within this session (default {WEB_NICE}; unused with cgroups)",
    )
    parser.add_argument(
        "--gunicorn-config",
        type=Path,
        default=ROOT / "deploy" / "gunicorn.conf.py",
        help="gunicorn configuration of Civility's web processes (a diagnostic one, say)",
    )
    parser.add_argument(
        "--cpu-weighting",
        choices=["auto", "cgroup", "nice"],
        default="auto",
        help="how Civility's parts get production's CPU shares: cgroups of the cpu controller "
        "with the units' CPUWeight= (--cpu-weight), or --web-nice and --worker-nice; auto: "
        "cgroups when one can be written here (as root), else nice",
    )
    parser.add_argument(
        "--cpu-weight",
        action="append",
        default=[],
        metavar="ROLE=WEIGHT",
        help="with cgroups, a role's cpu.weight (1-10000, 100 the default of everything else; "
        "v1: cpu.shares = weight x 10.24); roles and defaults: "
        + ", ".join(f"{role}={weight}" for role, weight in CPU_WEIGHTS.items()),
    )
    parser.add_argument("--worker-concurrency", type=int, default=1, help="Celery processes")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="niceness of the Celery worker (its unit's Nice=; without cgroups, what puts "
        "it below the web processes; 0: same priority)",
    )
    parser.add_argument(
        "--read-cache", type=float, default=5.0, help="CIVILITY_READ_CACHE_SECONDS (0: off)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "CIVILITY_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/civility_load"
        ),
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("CIVILITY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"),
    )
    parser.add_argument("--port", type=int, default=8031)
    parser.add_argument("--isso-port", type=int, default=8032)
    parser.add_argument("--drain-timeout", type=float, default=600)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    if args.command == "seed":
        return seed(args)
    if args.command == "count":
        return count(args)
    if args.generator == "auto":
        args.generator = "wrk" if (os.environ.get("WRK") or shutil.which("wrk")) else "locust"
    OUT.mkdir(parents=True, exist_ok=True)
    weights = parse_weights(args.cpu_weight)
    # SIGTERM unwinds like Ctrl-C: the servers are stopped and the cgroups removed.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    results = []
    if args.target in ("civility", "both"):
        args.weighting = CpuWeighting(weights, args.cpu_weighting)
        try:
            results.append(run_civility(args))
        finally:
            args.weighting.close()
            args.weighting = None
    if args.target in ("isso", "both"):
        results.append(run_isso(args))
    print(table(results))
    for result in results:
        print(f"{result['label']}: load average {json.dumps(result['stats']['machine'])}")
        print(f"{result['label']}: CPU seconds {json.dumps(result.get('cpu_seconds', {}))}")
    for result in results:
        if "comments" in result:
            print(f"{result['label']}: comments {json.dumps(result['comments'])}")
            print(f"{result['label']}: engine {json.dumps(result['engine'])}")
    if len(results) == 2:
        comparison = ratios(results[0], results[1])
        print("ratios:", json.dumps(comparison))
        (OUT / "comparison.json").write_text(json.dumps(comparison, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
