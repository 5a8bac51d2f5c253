"""Rule 1, off_topic: how far the comment is from the article it is posted under.

Features, from the shared sentence embedding: the cosine of the comment to the article's
title and lead, to its body (in chunks, best chunk), and, for a reply, to the parent comment;
a reply is on topic when it follows its parent. The comment's length enters too: a short
reaction ("Well said.") shares no words with anything and is not off-topic for that; and so
does its likeness to the team's generic reactions (training/generic_reactions.txt: thanks,
praise, agreement, whose vectors the model file carries), which fit under any article. A small
logistic model over these features, trained by ``civility train`` on comments paired with their
own and with other articles (models/README.md), turns them into a calibrated score.

The first stage uses the same features from the static vectors: clearly on-topic comments are
settled there. Article vectors (static and full) are cached per ``Article.key`` or, without a
key, per hash of the article's text. Without an article the rule is neutral (score 0).
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from civility.standards.analysis import Analysis
from civility.standards.detectors import Detector
from civility.standards.detectors.learned_model import CALIBRATED_VALUES
from civility.standards.embedding import MODELS_DIR
from civility.standards.policy import Policy
from civility.standards.types import Article, Context, Evidence, Finding

TOPIC_MODEL_PATH = MODELS_DIR / "off-topic.npz"
BODY_CHUNK_WORDS = 120
BODY_MAX_CHUNKS = 4
ARTICLE_CACHE_SIZE = 2048
SCREEN_SCORE_CEILING = 0.45
STATIC_RAW_CACHE_KEY = "off_topic:static-raw"


@dataclass(frozen=True, slots=True)
class ArticleVectors:
    head: np.ndarray  # title + lead
    body: np.ndarray  # (chunks, dims); may be empty


def article_parts(article: Article) -> tuple[str, list[str]]:
    head = ". ".join(part for part in (article.title, article.lead) if part.strip())
    words = article.body.split()
    chunks = [
        " ".join(words[start : start + BODY_CHUNK_WORDS])
        for start in range(0, min(len(words), BODY_CHUNK_WORDS * BODY_MAX_CHUNKS), BODY_CHUNK_WORDS)
    ]
    return head or article.body[:500], chunks


def features(
    comment: np.ndarray,
    article: ArticleVectors,
    parent: np.ndarray | None,
    words: int,
    reactions: np.ndarray | None = None,
) -> np.ndarray:
    """[best similarity, head similarity, parent similarity or head's, log length, 1/length],
    and where ``reactions`` (generic reactions' vectors, one per row) are given, the comment's
    likeness to the nearest of them."""
    head = float(comment @ article.head)
    body = float(np.max(article.body @ comment)) if article.body.size else head
    parent_similarity = float(comment @ parent) if parent is not None and np.any(parent) else head
    best = max(head, body, parent_similarity)
    values = [best, head, parent_similarity, math.log1p(words), 1.0 / (1.0 + words)]
    if reactions is not None:
        values.append(reaction_likeness(comment, reactions))
    return np.array(values, dtype=np.float64)


def reaction_likeness(comment: np.ndarray, reactions: np.ndarray) -> float:
    """Cosine of the comment to its nearest generic reaction (the vectors are unit length)."""
    return float(np.max(reactions @ comment)) if reactions.size else 0.0


@dataclass(frozen=True, slots=True)
class TopicModel:
    full_weights: np.ndarray
    full_bias: float
    full_knots: np.ndarray  # raw (queue, reject)
    static_weights: np.ndarray
    static_bias: float
    static_knots: np.ndarray
    screen_bound: float  # raw static score under which the comment is settled on topic
    # The generic reactions' vectors per stage (rows), or None for a model without the feature.
    full_reactions: np.ndarray | None = None
    static_reactions: np.ndarray | None = None

    @staticmethod
    def raw(weights: np.ndarray, bias: float, x: np.ndarray) -> float:
        z = float(np.clip(x @ weights + bias, -30.0, 30.0))
        return 1.0 / (1.0 + math.exp(-z))

    @staticmethod
    def calibrate(raw: float, knots: np.ndarray) -> float:
        return float(np.interp(raw, [0.0, knots[0], knots[1], 1.0], CALIBRATED_VALUES))


_model_lock = threading.Lock()
_model: TopicModel | None = None


def load_topic_model() -> TopicModel:
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                with np.load(TOPIC_MODEL_PATH) as data:
                    _model = TopicModel(
                        full_weights=data["full_weights"].astype(np.float64),
                        full_bias=float(data["full_bias"]),
                        full_knots=data["full_knots"].astype(np.float64),
                        static_weights=data["static_weights"].astype(np.float64),
                        static_bias=float(data["static_bias"]),
                        static_knots=data["static_knots"].astype(np.float64),
                        screen_bound=float(data["screen_bound"]),
                        full_reactions=_optional_rows(data, "full_reactions"),
                        static_reactions=_optional_rows(data, "static_reactions"),
                    )
    return _model


def _optional_rows(data: np.lib.npyio.NpzFile, key: str) -> np.ndarray | None:
    return data[key].astype(np.float32) if key in data.files else None


class ArticleCache:
    """Vectors of recent articles, per stage, bounded (least recently used goes first)."""

    def __init__(self, size: int = ARTICLE_CACHE_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], ArticleVectors] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(article: Article) -> str:
        if article.key:
            return "key:" + article.key
        return "sha:" + hashlib.sha1(article.text.encode("utf-8")).hexdigest()

    def get(self, article: Article, stage: str) -> ArticleVectors:
        cache_key = (stage, self.key(article))
        with self._lock:
            found = self._items.get(cache_key)
            if found is not None:
                self._items.move_to_end(cache_key)
                return found
        vectors = embed_article(article, stage)
        with self._lock:
            self._items[cache_key] = vectors
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vectors


def embed_article(article: Article, stage: str) -> ArticleVectors:
    from civility.standards import embedding

    head, chunks = article_parts(article)
    embed = embedding.embed if stage == "full" else embedding.embed_static
    vectors = embed([head, *chunks])
    return ArticleVectors(head=vectors[0], body=vectors[1:])


_parents_lock = threading.Lock()
_parents: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
PARENT_CACHE_SIZE = 4096


def clear_parent_cache() -> None:
    """Forget the parent vectors (benchmarks time each pass from a cold cache)."""
    with _parents_lock:
        _parents.clear()


def _parent_vector(text: str, stage: str, analysis: Analysis) -> np.ndarray | None:
    """The parent comment's vector; replies to one comment share it (small LRU cache)."""
    if not text.strip():
        return None
    key = (stage, hashlib.sha1(text.encode("utf-8")).hexdigest())
    with _parents_lock:
        found = _parents.get(key)
        if found is not None:
            _parents.move_to_end(key)
            return found
    from civility.standards import embedding

    embed = embedding.embed if stage == "full" else embedding.embed_static
    vector = embed([text])[0]
    with _parents_lock:
        _parents[key] = vector
        while len(_parents) > PARENT_CACHE_SIZE:
            _parents.popitem(last=False)
    return vector


class OffTopicDetector(Detector):
    slugs: ClassVar[tuple[str, ...]] = ("off_topic",)
    uses_embedding: ClassVar[bool] = True

    def __init__(self, policy: Policy) -> None:
        super().__init__(policy)
        self.model = load_topic_model()
        self.articles = ArticleCache()

    def _has_article(self, analysis: Analysis) -> bool:
        article = analysis.comment.article
        return article is not None and bool(article.text.strip())

    def screen(self, analysis: Analysis, context: Context) -> dict[str, Finding] | None:
        if not self._has_article(analysis):
            return {"off_topic": Finding(score=0.0)}
        raw = self._static_raw(analysis)
        if raw is None or raw >= self.model.screen_bound:
            return None
        score = min(self.model.calibrate(raw, self.model.static_knots), SCREEN_SCORE_CEILING)
        return {"off_topic": Finding(score=score)}

    def estimate_many(
        self, analyses: Sequence[Analysis], contexts: Sequence[Context]
    ) -> list[dict[str, Finding] | None]:
        """The screen's answer where it settles; elsewhere the static model's score, with
        no ceiling below 1 (the full model decides whether it is off topic)."""
        results: list[dict[str, Finding] | None] = []
        for analysis, context in zip(analyses, contexts, strict=True):
            settled = self.screen(analysis, context)
            if settled is None and analysis.static_vector is not None:
                settled = self._static_estimate(analysis)
            results.append(settled)
        return results

    def _static_estimate(self, analysis: Analysis) -> dict[str, Finding] | None:
        raw = self._static_raw(analysis)
        if raw is None:
            return None
        score = self.model.calibrate(raw, self.model.static_knots)
        return {"off_topic": Finding(score=score, ceiling=1.0)}

    def _static_raw(self, analysis: Analysis) -> float | None:
        """The static model's raw score, or None without an article or a static vector; worked
        out once per comment (the first stage's screen and estimate both ask)."""
        article = analysis.comment.article
        vector = analysis.static_vector
        if article is None or vector is None or not np.any(vector):
            return None
        return analysis.once(
            STATIC_RAW_CACHE_KEY,
            float,
            lambda: self.model.raw(
                self.model.static_weights,
                self.model.static_bias,
                features(
                    vector,
                    self.articles.get(article, "static"),
                    _parent_vector(analysis.comment.parent_text, "static", analysis),
                    len(analysis.tokens),
                    self.model.static_reactions,
                ),
            ),
        )

    def detect(self, analysis: Analysis, context: Context) -> dict[str, Finding]:
        if not self._has_article(analysis):
            return {"off_topic": Finding(score=0.0)}
        if analysis.embedding is None:
            from civility.standards import embedding

            embedding.annotate_full([analysis])
        vector = analysis.embedding
        assert vector is not None
        article = analysis.comment.article
        assert article is not None
        parent = _parent_vector(analysis.comment.parent_text, "full", analysis)
        x = features(
            vector,
            self.articles.get(article, "full"),
            parent,
            len(analysis.tokens),
            self.model.full_reactions,
        )
        raw = self.model.raw(self.model.full_weights, self.model.full_bias, x)
        score = self.model.calibrate(raw, self.model.full_knots)
        evidence: list[Evidence] = []
        if score >= 0.5:
            against = (
                "the article or the comment it replies to" if parent is not None else "the article"
            )
            evidence.append(
                Evidence(
                    slug="off_topic",
                    explanation=(
                        f"little in common with {against} (similarity {x[0]:.2f}; "
                        f"off-topic score {score:.2f})"
                    ),
                )
            )
        return {"off_topic": Finding(score=score, evidence=evidence)}
