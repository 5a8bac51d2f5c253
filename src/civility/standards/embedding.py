"""Sentence embeddings: a static first stage and the full MiniLM model (ONNX).

Two models, both shipped under ``standards/models`` (data card: ``models/README.md``):

- the **full** model: all-MiniLM-L6-v2 exported to ONNX with mean pooling and L2
  normalisation inside the graph, weights int8 per channel. Run by onnxruntime one comment
  per call, with no padding at all. The graph quantises its activations dynamically, with
  one range for the whole input tensor: run on a padded batch, a comment's vector would
  depend on its batch mates (cosine down to 0.97). One row per call makes every vector a
  function of its own text only, which costs about 5% of CPU time (no padding to compute
  offsets part of the batching loss) and lets identical texts share one computation: a
  small cache by text answers reposts, flash mobs and re-checks without the model.
  A batch spreads its comments over a pool of callers, one thread each; a comment of at least
  ``LONE_PARALLEL_MIN_TOKENS`` tokens that comes alone (the web app's one post) runs, when
  the cores are free, on a second session with one thread per core, the same graph and
  kernels: the same vector bit for bit, sooner.
  A comment of more than ``SPLIT_ABOVE_TOKENS`` tokens is encoded as adjacent windows of at
  most ``WINDOW_TOKENS`` (the length the model was trained at), each with its own [CLS] and
  [SEP], and its vector is the token-weighted mean of the windows' vectors, normalised: in a
  batch the windows run on the pool side by side, alone one after the other on the two-thread
  session, which halves the time of the longest comments; the vector is a function of the
  text only. The graph's second output, the token vectors it pools, gives the comment's
  sentences their own vectors (:func:`sentence_pieces`): the learned rules mark the sentence
  that reads most like what they found.
- the **static** model: one 128-dimension vector per WordPiece token, distilled from the full
  model (each token run through it alone, then PCA). A comment's static vector is the
  frequency-weighted mean of its tokens' vectors: no network at all, a few microseconds.

Both load lazily, once per process, and are safe to share between threads.
"""

from __future__ import annotations

import bisect
import itertools
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from civility.standards.analysis import Analysis, Sentences

MODELS_DIR = Path(__file__).resolve().parent / "models"
FULL_MODEL_PATH = MODELS_DIR / "minilm-l6-v2-int8.onnx"
TOKENIZER_PATH = MODELS_DIR / "minilm-tokenizer.json"
STATIC_MODEL_PATH = MODELS_DIR / "static-minilm-128.npz"

FULL_DIMENSIONS = 384
# onnxruntime fuses each residual Add and the LayerNormalization after it into one
# SkipLayerNormalization node, whose CPU kernel took 69 us where the two nodes it replaces
# take 15 (a 40-token window, one thread): kept apart, a window costs 12% less. The nodes
# round differently from the fused one, so the heads are trained on vectors computed this
# way (``training/heads.py`` keys its cache of vectors on this setting too).
DISABLED_OPTIMIZERS: tuple[str, ...] = ("SkipLayerNormFusion",)
MAX_TOKENS = 256
# Full vectors of recently embedded texts (1.5 KB each): reposts and flash mobs repeat texts.
TEXT_CACHE_SIZE = 4096
# The static stage reads more of a long comment than the full model's 256 tokens: it is cheap.
STATIC_MAX_TOKENS = 512
# A comment alone with at least this many tokens runs on every core the pool may use when
# they are free. Measured on the 2-core Xeon (VNNI; one thread -> two spinning, median wall ms,
# same process, interleaved): 3 tokens 1.27 -> 1.27, 5: 1.46 -> 1.44, 8: 1.86 -> 1.74,
# 16: 3.1 -> 2.4, 32: 3.9 -> 2.9, 64: 7.2 -> 5.5; below 8 tokens the threads' meetings at
# each of the graph's ~200 steps eat the gain. (It was 64.)
LONE_PARALLEL_MIN_TOKENS = 8
# A comment of more tokens than SPLIT_ABOVE_TOKENS ([CLS] and [SEP] counted) is encoded as
# adjacent windows of at most WINDOW_TOKENS of its tokens, of equal size (two, up to
# MAX_TOKENS), each with its own [CLS] and [SEP]. Measured on the AVX2 EPYC
# (models/README.md section 1): one thread takes a 256-token comment in 52 ms and each
# 128-token half in 24 ms, so alone on two cores the windows take about 24 ms where the
# two-thread session takes 42. The vector moves
# (cosine to the whole-text vector: mean 0.92 on the benchmark mix's long comments) and the
# held-out scores do not (davidson, youtube_spam: ROC-AUC within 0.0002). Under 160 tokens the
# two-thread session is already under 20 ms, so shorter comments keep their whole-text vector.
# On the AVX-512 VNNI Xeon (29 November 2026) one 256-token window takes 37 ms on one thread
# and 22 on two; two 128-token windows 19-23 ms one after the other on the two-thread session,
# which is how a comment alone runs them (``_FullModel.embed``).
SPLIT_ABOVE_TOKENS = 160
WINDOW_TOKENS = 128
# Where annotate_static leaves a comment's word-piece ids (analysis.cache), for annotate_full.
WORD_PIECES_CACHE_KEY = "embedding:word-pieces"
# And its tokenizer encoding, whose character offsets place the comment's sentences.
ENCODING_CACHE_KEY = "embedding:encoding"
SENTENCE_OUTPUT = "sentence_embedding"  # the graph's first output; the second: token vectors
_CLS_ID, _SEP_ID = 101, 102  # the tokenizer's [CLS] and [SEP] (minilm-tokenizer.json)
# A sentence ends at a newline, or at ., !, ? or an ellipsis (with any closing quotes or
# brackets) followed by white space: "3.5" and "e.g.," do not end one; "U.S. officials" does,
# and the short-sentence rule below puts "U.S." back with what follows. Each alternative may
# only start where a run of its first characters starts (the look-behinds): the same matches
# (tested against the plain form), in linear time, where a run of 10,000 "!" or spaces took
# the plain form 700 or 80 ms, trying every position of the run to its end.
_SENTENCE_BREAK = re.compile(
    r"(?<![.!?\u2026])[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+|(?<!\s)\s*\n\s*"
)
# A sentence of fewer tokens joins the next one ("Yes.", "Mr.", "U.S."): too short to read
# alone. More than MAX_SENTENCES become that many runs of consecutive sentences, so that a
# comment's sentence vectors stay small in the text cache (8 x 768 bytes at most).
SENTENCE_MIN_TOKENS = 5
MAX_SENTENCES = 8

_lock = threading.Lock()
_full: _FullModel | None = None
_static: _StaticModel | None = None


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _thread_count() -> int:
    """Comments embedded in parallel: $CIVILITY_ONNX_THREADS, else the cores this process may
    use (max 4)."""
    configured = os.environ.get("CIVILITY_ONNX_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(4, _available_cores()))


def _cores_free_for(threads: int) -> bool:
    """Whether ``threads`` threads would each find a core free now: the running count of
    /proc/loadavg (which counts the calling thread) against the cores this process may use.
    Threads that split one comment meet at every step of the graph, so one of them waiting
    for a busy core stalls all of them (measured at load 10 on 2 cores: a 256-token comment
    took 4x longer on two threads than on one). This process's own runnable threads do not
    count: the two-thread session's helper spins for a while after each call, so right after
    one comment the count would refuse the next (measured: 21 of 30 long comments refused
    with nothing else running). True where the count cannot be read."""
    try:
        with open("/proc/loadavg", "rb") as file:
            running = int(file.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return True
    cores = _available_cores()
    if running - 1 + threads <= cores:
        return True
    return running - _own_running_threads() + threads <= cores


def _own_running_threads() -> int:
    """This process's threads in state R (the calling thread among them): read only when
    /proc/loadavg alone would refuse, about 15 us a thread."""
    count = 0
    try:
        tasks = list(os.scandir("/proc/self/task"))
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"{task.path}/stat", "rb") as file:
                stat = file.read()
        except OSError:
            continue  # the thread ended meanwhile
        # The state follows the command name, which is in parentheses and may hold spaces.
        state = stat.rfind(b")") + 2
        if stat[state : state + 1] == b"R":
            count += 1
    return max(count, 1)


def _session(threads: int) -> Any:
    """A session on ``threads`` threads. With more than one, the helpers spin between the
    graph's steps (onnxruntime's default): measured with the cores to itself, 2 threads took a
    128-token comment from 24 to 17-19 ms spinning but only to 23 ms sleeping, and 256 tokens
    from 67-70 to 42-43 ms spinning, 47 ms sleeping. Spinning is why ``_cores_free_for``
    decides first: spinning threads that wait for a busy core stall each other."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(
        str(FULL_MODEL_PATH),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(DISABLED_OPTIMIZERS),
    )


class PendingEmbedding:
    """Vectors on their way (:meth:`_FullModel.begin`); :meth:`result` waits for them."""

    def __init__(self, model: _FullModel, count: int, with_sentences: bool) -> None:
        self.model = model
        self.with_sentences = with_sentences
        self.vectors = np.zeros((count, FULL_DIMENSIONS), dtype=np.float32)
        self.sentences: list[Sentences | None] = [None] * count
        self.todo: dict[str, list[int]] = {}  # text -> its rows, for texts not in the cache
        self.pieces: list[list[list[int]]] = []
        self.split: list[list[SentencePiece]] = []
        self.jobs: list[tuple[int, int, list[int], list[tuple[int, int]] | None]] = []
        self.running: list[Future[tuple[np.ndarray, np.ndarray | None]]] | None = None
        self.lone = False
        self._done = False

    def result(self) -> tuple[np.ndarray, list[Sentences | None]]:
        if not self._done:
            if self.todo:
                self.model._finish(self)
            self._done = True
        return self.vectors, self.sentences


class _FullModel:
    def __init__(self) -> None:
        from tokenizers import Tokenizer

        # One thread per call, and the comments of a batch spread over a pool of callers
        # (onnxruntime releases the GIL): a short comment's matrices are too small to split
        # between threads, which then spend more time meeting than working (measured: half
        # the CPU time for the same vectors, which do not depend on the thread count).
        self.session = _session(1)
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        # text -> its vector, its sentences, and whether those were worked out (a plain
        # :meth:`embed` leaves them out; the engine's call then works them out again).
        self._cache: OrderedDict[str, tuple[np.ndarray, Sentences | None, bool]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._workers = _thread_count()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0
        # Made on the first comment that comes alone (a batch never needs it). Only in
        # the process that loaded the model: a forked child has none of the parent's threads,
        # and making a threaded session there may hang; it runs everything on one thread.
        # (The web and queue workers build their engine after the fork, so they have it.)
        self._lone_session: Any = None
        self._pid = os.getpid()

    def _executor(self) -> ThreadPoolExecutor | None:
        """The pool of callers, made anew in a forked child (the parent's threads are not
        there, and a pool that believes they are would wait for them forever)."""
        if self._workers <= 1:
            return None
        with self._cache_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="civility-embed")
                self._pool_pid = os.getpid()
            return self._pool

    def lone_session(self) -> Any:
        """The session for a comment alone: one thread per core the pool may use. The
        kernels split a product's rows and columns between threads, never a sum, so its
        vectors are bit-identical to the one-thread session's (a test holds it to that)."""
        if self._lone_session is None:
            with _lock:
                if self._lone_session is None:
                    self._lone_session = _session(self._workers)
        return self._lone_session

    def _run_one(self, ids: list[int], session: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """The window's sentence vector and its token vectors ([CLS] and [SEP] included)."""
        vectors, token_vectors = (session or self.session).run(None, _inputs(ids))
        return vectors[0], token_vectors[0]

    def _run_window(
        self, ids: list[int], rows: list[tuple[int, int]] | None, session: Any = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The window's sentence vector and, where ``rows`` are given, the sum of its token
        vectors over each of them: the token vectors themselves are dropped here, in the
        worker, rather than held for the whole batch (up to 384 floats a token)."""
        if rows is None:
            # Only the output it needs: the token vectors would be copied out for nothing.
            (vectors,) = (session or self.session).run([SENTENCE_OUTPUT], _inputs(ids))
            return vectors[0], None
        vector, token_vectors = self._run_one(ids, session)
        sums = np.zeros((len(rows), FULL_DIMENSIONS), dtype=np.float32)
        for row, (first, end) in enumerate(rows):
            if end > first:
                sums[row] = token_vectors[first:end].sum(axis=0)
        return vector, sums

    def embed(
        self, texts: Sequence[str], word_pieces: Sequence[list[int] | None] | None = None
    ) -> np.ndarray:
        """``word_pieces``: each text's ids as the static stage tokenised it (no [CLS]/[SEP],
        ``STATIC_MAX_TOKENS``), where known, to save tokenising it again (about 0.9 ms for a
        comment of 1,500 characters): :func:`full_ids` makes this model's input from them.
        The sentences are not worked out (training and the benchmarks' encoder pass)."""
        return self.embed_with_sentences(texts, word_pieces, with_sentences=False)[0]

    def embed_with_sentences(
        self,
        texts: Sequence[str],
        word_pieces: Sequence[list[int] | None] | None = None,
        encodings: Sequence[Any] | None = None,
        *,
        with_sentences: bool = True,
    ) -> tuple[np.ndarray, list[Sentences | None]]:
        """:meth:`embed`, and each text's :class:`Sentences` (None under two sentences).
        ``encodings``: each text's tokenizer encoding from the static stage, where known, whose
        character offsets place its sentences without tokenising it again."""
        return self.begin(texts, word_pieces, encodings, with_sentences=with_sentences).result()

    def begin(
        self,
        texts: Sequence[str],
        word_pieces: Sequence[list[int] | None] | None = None,
        encodings: Sequence[Any] | None = None,
        *,
        with_sentences: bool = True,
    ) -> PendingEmbedding:
        """:meth:`embed_with_sentences` in two halves: the texts' windows go to the pool of
        callers now, and :meth:`PendingEmbedding.result` waits for them. Meanwhile the calling
        thread is free (the engine finishes the chunk before), and no thread is added to do
        it: a new thread would bring its own malloc arena (measured: 10 MB more peak RSS over
        the benchmark mix)."""
        pending = PendingEmbedding(self, len(texts), with_sentences)
        todo = pending.todo
        known: dict[str, list[int]] = {}
        known_encodings: dict[str, Any] = {}
        with self._cache_lock:
            for row, text in enumerate(texts):
                found = self._cache.get(text)
                if found is not None and (found[2] or not with_sentences):
                    self._cache.move_to_end(text)
                    pending.vectors[row], pending.sentences[row], _ = found
                else:
                    todo.setdefault(text, []).append(row)
                    given = word_pieces[row] if word_pieces is not None else None
                    if given is not None:
                        known[text] = given
                    encoding = encodings[row] if encodings is not None else None
                    if encoding is not None:
                        known_encodings[text] = encoding
        if not todo:
            return pending
        distinct = list(todo)
        unknown = [text for text in distinct if text not in known]
        encoded = dict(
            zip(unknown, (e.ids for e in self.tokenizer.encode_batch_fast(unknown)), strict=True)
        )
        pending.pieces = [
            windows(full_ids(known[text]) if text in known else encoded[text]) for text in distinct
        ]
        pending.split = (
            self._sentence_pieces(distinct, [known_encodings.get(text) for text in distinct])
            if with_sentences
            else [[] for _ in distinct]
        )
        # (text, window, token ids, the window's rows of each sentence); longest first, so
        # that no worker is left with a long one at the end.
        jobs = [
            (owner, k, ids, window_rows(pending.split[owner], parts, k))
            for owner, parts in enumerate(pending.pieces)
            for k, ids in enumerate(parts)
        ]
        jobs.sort(key=lambda job: -len(job[2]))
        pending.jobs = jobs
        if (
            self._workers > 1
            and len(distinct) == 1
            and os.getpid() == self._pid
            and len(jobs[0][2]) >= LONE_PARALLEL_MIN_TOKENS
        ):
            pending.lone = True  # decided when it runs: whether the cores are free then
        elif len(jobs) > 1 and (pool := self._executor()) is not None:
            pending.running = [pool.submit(self._run_window, job[2], job[3]) for job in jobs]
        return pending

    def _finish(self, pending: PendingEmbedding) -> None:
        jobs = pending.jobs
        if pending.running is not None:
            outputs = [future.result() for future in pending.running]
        elif pending.lone and _cores_free_for(self._workers):
            # One comment alone, its windows one after the other on every core, not side by
            # side on the pool: the lone session's helper threads spin for a while after each
            # call, and pool threads started meanwhile share the cores with them (measured:
            # two 128-token windows right after short lone comments, pool 30.3 ms median,
            # here 19.8; with nothing before them, 18.7 on the pool).
            lone = self.lone_session()
            outputs = [self._run_window(ids, rows, lone) for _, _, ids, rows in jobs]
        elif len(jobs) > 1 and (pool := self._executor()) is not None:
            outputs = list(
                pool.map(self._run_window, [job[2] for job in jobs], [job[3] for job in jobs])
            )
        else:
            outputs = [self._run_window(ids, rows) for _, _, ids, rows in jobs]
        by_window = {(job[0], job[1]): output for job, output in zip(jobs, outputs, strict=True)}
        computed: list[tuple[str, tuple[np.ndarray, Sentences | None, bool]]] = []
        for owner, text in enumerate(pending.todo):
            parts = pending.pieces[owner]
            window_outputs = [by_window[owner, k] for k in range(len(parts))]
            vector = combine_windows(parts, [window[0] for window in window_outputs])
            text_sentences = None
            if pending.split[owner]:
                sums = [window[1] for window in window_outputs if window[1] is not None]
                text_sentences = sentences_from_sums(pending.split[owner], sums)
            for row in pending.todo[text]:
                pending.vectors[row], pending.sentences[row] = vector, text_sentences
            computed.append((text, (vector, text_sentences, pending.with_sentences)))
        with self._cache_lock:
            for text, entry in computed:
                self._cache[text] = entry
            while len(self._cache) > TEXT_CACHE_SIZE:
                self._cache.popitem(last=False)

    def _sentence_pieces(
        self, texts: list[str], encodings: list[Any] | None = None
    ) -> list[list[SentencePiece]]:
        """Each text's sentences as :func:`sentence_pieces` gives them. The token offsets
        come from the static stage's encoding where given (its tokens are this model's,
        without [CLS] and [SEP]), else from tokenising the text again (about 70 us)."""
        found = [sentence_spans(text) for text in texts]
        result: list[list[SentencePiece]] = [[] for _ in texts]
        missing: list[int] = []
        for k, spans in enumerate(found):
            if len(spans) < 2:
                continue
            encoding = encodings[k] if encodings is not None else None
            if encoding is None:
                missing.append(k)
            else:
                result[k] = sentence_pieces(spans, encoding.offsets[: MAX_TOKENS - 2])
        if missing:
            encoded = self.tokenizer.encode_batch([texts[k] for k in missing])
            for k, encoding in zip(missing, encoded, strict=True):
                result[k] = sentence_pieces(found[k], encoding.offsets[1:-1])
        return result


def _inputs(ids: list[int]) -> dict[str, np.ndarray]:
    """The graph's inputs for one window, unpadded."""
    input_ids = np.asarray([ids], dtype=np.int64)
    return {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}


def full_ids(word_pieces: list[int]) -> list[int]:
    """The full model's input from the static stage's ids: [CLS], the first
    ``MAX_TOKENS - 2`` ids, [SEP], which is what its own tokenizer gives (same vocabulary and
    normaliser; checked on every text of the benchmark mix, and by a test)."""
    return [_CLS_ID, *word_pieces[: MAX_TOKENS - 2], _SEP_ID]


def windows(ids: list[int]) -> list[list[int]]:
    """The token id lists the encoder runs for one comment (``ids`` with [CLS] and [SEP], as
    the tokenizer gives them): ``ids`` itself up to ``SPLIT_ABOVE_TOKENS`` tokens, else
    adjacent windows of at most ``WINDOW_TOKENS`` of the text's tokens, each with its own
    [CLS] and [SEP] added, as equal in size as their count allows."""
    if len(ids) <= SPLIT_ABOVE_TOKENS:
        return [ids]
    body = ids[1:-1]
    count = -(-len(body) // WINDOW_TOKENS)
    bounds = [len(body) * k // count for k in range(count + 1)]
    return [[_CLS_ID, *body[bounds[k] : bounds[k + 1]], _SEP_ID] for k in range(count)]


def combine_windows(parts: list[list[int]], vectors: list[np.ndarray]) -> np.ndarray:
    """One comment's vector from its windows' unit vectors: the vector itself for one window;
    else their mean weighted by each window's own tokens ([CLS]/[SEP] not counted),
    normalised (in float64, summed in window order, so it depends on the text only)."""
    if len(vectors) == 1:
        return vectors[0]
    total = np.zeros(FULL_DIMENSIONS, dtype=np.float64)
    for ids, vector in zip(parts, vectors, strict=True):
        total += (len(ids) - 2) * vector.astype(np.float64)
    norm = float(np.linalg.norm(total))
    return (total / norm if norm > 0 else total).astype(np.float32)


# (character start, character end, first body token, end body token) of one sentence.
SentencePiece = tuple[int, int, int, int]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges of ``text``'s sentences, without the white space around them."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        _append_trimmed(text, start, match.end(), spans)
        start = match.end()
    _append_trimmed(text, start, len(text), spans)
    return spans


def _append_trimmed(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_pieces(
    spans: list[tuple[int, int]], offsets: Sequence[tuple[int, int]]
) -> list[SentencePiece]:
    """The sentences ``spans`` as runs of the full model's body tokens (``offsets``: each
    token's character range, [CLS] and [SEP] left out, as far as the model reads): sentences
    the model never reached dropped, sentences of under ``SENTENCE_MIN_TOKENS`` tokens joined
    to the next (the last to the one before), at most ``MAX_SENTENCES`` runs of about equal
    counts of sentences. Empty under two."""
    starts = [start for start, _ in offsets]
    pieces: list[SentencePiece] = []
    for char_start, char_end in spans:
        first = bisect.bisect_left(starts, char_start)
        end = bisect.bisect_left(starts, char_end)
        if end > first:
            pieces.append((char_start, char_end, first, end))
    joined: list[SentencePiece] = []
    pending: SentencePiece | None = None
    for piece in pieces:
        if pending is not None:
            piece = (pending[0], piece[1], pending[2], piece[3])
        if piece[3] - piece[2] < SENTENCE_MIN_TOKENS:
            pending = piece
        else:
            joined.append(piece)
            pending = None
    if pending is not None:
        if joined:
            last = joined.pop()
            pending = (last[0], pending[1], last[2], pending[3])
        joined.append(pending)
    if len(joined) > MAX_SENTENCES:
        bounds = [len(joined) * k // MAX_SENTENCES for k in range(MAX_SENTENCES + 1)]
        joined = [
            (joined[a][0], joined[b - 1][1], joined[a][2], joined[b - 1][3])
            for a, b in itertools.pairwise(bounds)
        ]
    return joined if len(joined) > 1 else []


def window_rows(
    pieces: list[SentencePiece], parts: list[list[int]], k: int
) -> list[tuple[int, int]] | None:
    """Rows of window ``k``'s token vectors ([CLS] is row 0) that belong to each of the
    text's sentences ``pieces`` (empty ranges where a sentence lies in another window)."""
    if not pieces:
        return None
    start = sum(len(part) - 2 for part in parts[:k])
    end = start + len(parts[k]) - 2
    return [
        (1 + max(first, start) - start, 1 + min(stop, end) - start)
        if first < end and stop > start
        else (0, 0)
        for _, _, first, stop in pieces
    ]


def sentences_from_sums(pieces: list[SentencePiece], sums: list[np.ndarray]) -> Sentences:
    """Each sentence's mean token vector, normalised, from its windows' sums (in order)."""
    total = sums[0].copy()
    for more in sums[1:]:
        total += more
    counts = np.array([stop - first for _, _, first, stop in pieces], dtype=np.float32)
    means = total / counts[:, None]
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    vectors = np.divide(means, norms, out=np.zeros_like(means), where=norms > 0)
    return Sentences(
        spans=tuple((start, end) for start, end, _, _ in pieces),
        vectors=vectors.astype(np.float16),
    )


class _StaticModel:
    def __init__(self) -> None:
        from tokenizers import Tokenizer

        with np.load(STATIC_MODEL_PATH) as data:
            self.weights = data["weights"].astype(np.float32)
            # Rows are pre-multiplied by each token's weight: a comment's vector is then a sum.
            self.table = data["vectors"].astype(np.float32) * self.weights[:, None]
            self.mean = data["mean"].astype(np.float32)
        self.dimensions = int(self.table.shape[1])
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(STATIC_MAX_TOKENS)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        # The fast form skips the character offsets: the same ids, about 15% less time (a
        # comment of 1,500 characters: 0.70 -> 0.59 ms).
        encodings = self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        return [e.ids for e in encodings]

    def encodings(self, texts: Sequence[str]) -> list[Any]:
        """The texts' encodings with character offsets, which the full model reads to place
        a comment's sentences (about 7 us a comment more than :meth:`token_ids`, against
        about 70 us to tokenise a comment of several sentences again there)."""
        return list(self.tokenizer.encode_batch(list(texts), add_special_tokens=False))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_ids(self.token_ids(texts))

    def embed_ids(self, all_ids: list[list[int]]) -> np.ndarray:
        result = np.zeros((len(all_ids), self.dimensions), dtype=np.float32)
        if not all_ids:
            return result
        lengths = np.fromiter((len(ids) for ids in all_ids), dtype=np.int64, count=len(all_ids))
        flat = np.fromiter(
            (token for ids in all_ids for token in ids), dtype=np.int64, count=int(lengths.sum())
        )
        present = lengths > 0
        if flat.size:
            # Each comment's tokens are contiguous in ``flat``. Summed one comment at a time:
            # numpy's ``add.reduceat`` over the rows of a 2-d array took 18 ms for a batch of
            # 256 comments (10,000 tokens) where these 256 sums take 1.5 ms.
            starts = (np.cumsum(lengths) - lengths)[present]
            rows = self.table[flat]
            ends = np.append(starts[1:], flat.size)
            sums = np.empty((len(starts), self.dimensions), dtype=np.float32)
            for row, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
                np.add.reduce(rows[start:end], axis=0, out=sums[row])
            weight_sums = np.add.reduceat(self.weights[flat], starts)
            result[present] = sums / np.maximum(weight_sums, 1e-9)[:, None]
        result[present] -= self.mean  # centre: the corpus average carries no signal
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        np.divide(result, norms, out=result, where=norms > 1e-9)
        return result


def full_model() -> _FullModel:
    global _full
    if _full is None:
        with _lock:
            if _full is None:
                _full = _FullModel()
    return _full


def static_model() -> _StaticModel:
    global _static
    if _static is None:
        with _lock:
            if _static is None:
                _static = _StaticModel()
    return _static


def embed(texts: Sequence[str]) -> np.ndarray:
    """Full sentence embeddings, shape (len(texts), 384), unit length (float32)."""
    return full_model().embed(texts)


def embed_static(texts: Sequence[str]) -> np.ndarray:
    """Static embeddings, shape (len(texts), 128), unit length or zero for empty text."""
    return static_model().embed(texts)


def annotate_static(analyses: list[Analysis]) -> None:
    """Set ``analysis.static_vector`` for every analysis that lacks one, in one batch, and
    keep its word-piece ids (``WORD_PIECES_CACHE_KEY``) for the full model."""
    pending = [a for a in analyses if a.static_vector is None]
    if not pending:
        return
    model = static_model()
    encodings = model.encodings([a.comment.text for a in pending])
    all_ids = [encoding.ids for encoding in encodings]
    vectors = model.embed_ids(all_ids)
    for analysis, vector, ids, encoding in zip(pending, vectors, all_ids, encodings, strict=True):
        analysis.static_vector = vector
        analysis.cache[WORD_PIECES_CACHE_KEY] = ids
        analysis.cache[ENCODING_CACHE_KEY] = encoding


def annotate_full(analyses: list[Analysis]) -> None:
    """Set ``analysis.embedding`` for every analysis that lacks one, in one batch."""
    begin_annotating(analyses)()


def begin_annotating(analyses: list[Analysis]) -> Callable[[], None]:
    """:func:`annotate_full` in two halves: the encoder starts on the pool of callers now,
    and the function returned waits for it and sets the fields (the engine finishes the
    chunk before meanwhile)."""
    pending = [a for a in analyses if a.embedding is None]
    if not pending:
        return _nothing
    word_pieces = [a.cache.get(WORD_PIECES_CACHE_KEY) for a in pending]
    started = full_model().begin(
        [a.comment.text for a in pending],
        [ids if isinstance(ids, list) else None for ids in word_pieces],
        [a.cache.get(ENCODING_CACHE_KEY) for a in pending],
    )

    def finish() -> None:
        vectors, sentences = started.result()
        for analysis, vector, found in zip(pending, vectors, sentences, strict=True):
            analysis.embedding = vector
            analysis.sentences = found

    return finish


def _nothing() -> None:
    return None


def model_files() -> dict[str, Any]:
    """The shipped model files and their sizes (for the data card and diagnostics)."""
    return {
        path.name: path.stat().st_size
        for path in (FULL_MODEL_PATH, TOKENIZER_PATH, STATIC_MODEL_PATH)
        if path.exists()
    }
