"""Locust scenario for benchmarks/load.py: readers fetch a thread, posters post comments.

The same file drives Civility and Isso (LOAD_TARGET), so both see the same load generator,
the same mix and the same texts. Settings come from environment variables set by load.py:

LOAD_TARGET          civility | isso
LOAD_READ_PATHS      comma-separated paths readers fetch in turn
LOAD_POST_PATHS      comma-separated paths posters post to
LOAD_TOKENS_FILE     (civility) one API bearer token per line, one per poster
LOAD_POSTS_PER_USER  posts per second per poster (0: as fast as it can)
LOAD_POSTER_WEIGHT / LOAD_READER_WEIGHT   share of users of each kind
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import uuid
from typing import Any

from locust import constant, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

TARGET = os.environ.get("LOAD_TARGET", "civility")
READ_PATHS = [p for p in os.environ.get("LOAD_READ_PATHS", "").split(",") if p]
POST_PATHS = [p for p in os.environ.get("LOAD_POST_PATHS", "").split(",") if p]
POSTS_PER_USER = float(os.environ.get("LOAD_POSTS_PER_USER", "2"))

_tokens: list[str] = []
if os.environ.get("LOAD_TOKENS_FILE"):
    with open(os.environ["LOAD_TOKENS_FILE"], encoding="utf-8") as handle:
        _tokens = [line.strip() for line in handle if line.strip()]
_token_cycle = itertools.cycle(_tokens or [""])
_token_lock = threading.Lock()

WORDS = [
    "the",
    "talks",
    "treaty",
    "islands",
    "minister",
    "council",
    "budget",
    "schools",
    "hospital",
    "river",
    "bridge",
    "election",
    "results",
    "report",
    "city",
    "voters",
    "policy",
    "tax",
    "plan",
    "museum",
    "festival",
    "transport",
    "rail",
    "line",
    "station",
    "weather",
    "flood",
    "season",
    "farmers",
    "market",
    "prices",
    "energy",
    "wind",
    "solar",
    "local",
    "team",
    "match",
    "coach",
    "season",
    "players",
    "fans",
    "stadium",
    "review",
    "history",
    "argument",
    "point",
    "evidence",
    "source",
    "question",
    "answer",
]


def comment_text(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(2, 4)):
        words = rng.choices(WORDS, k=rng.randint(8, 16))
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


class Reader(FastHttpUser):
    weight = int(os.environ.get("LOAD_READER_WEIGHT", "7"))
    wait_time = constant(0)

    def on_start(self) -> None:
        self.paths = itertools.cycle(random.sample(READ_PATHS, len(READ_PATHS)))

    @task
    def read_thread(self) -> None:
        self.client.get(next(self.paths), name="read thread")


class Poster(FastHttpUser):
    weight = int(os.environ.get("LOAD_POSTER_WEIGHT", "1"))
    wait_time = constant_throughput(POSTS_PER_USER) if POSTS_PER_USER > 0 else constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()
        with _token_lock:
            self.token = next(_token_cycle)
        self.name = f"poster-{uuid.uuid4().hex[:6]}"

    @task
    def post_comment(self) -> None:
        path = self.rng.choice(POST_PATHS)
        text = f"{comment_text(self.rng)} ({uuid.uuid4().hex[:8]})"
        headers: dict[str, Any] = {"Content-Type": "application/json"}
        if TARGET == "isso":
            body = {"text": text, "author": self.name, "email": "", "website": ""}
        else:
            headers["Authorization"] = f"Bearer {self.token}"
            body = {"text": text, "client_token": uuid.uuid4().hex}
        with self.client.post(
            path, json=body, headers=headers, name="post comment", catch_response=True
        ) as response:
            if response.status_code not in (200, 201, 202):
                response.failure(f"status {response.status_code}: {response.text[:200]}")
