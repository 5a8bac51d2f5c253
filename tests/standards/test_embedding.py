"""The shipped embeddings: fidelity to the original model, dynamic padding, the static stage."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards import embedding
from civility.standards.analysis import analyse
from civility.standards.types import Comment


@pytest.fixture(scope="module")
def reference() -> tuple[list[str], np.ndarray]:
    with np.load(embedding.MODELS_DIR / "minilm-reference.npz") as data:
        return [str(s) for s in data["sentences"]], data["vectors"]


def test_int8_model_stays_close_to_the_float_original(
    reference: tuple[list[str], np.ndarray],
) -> None:
    sentences, vectors = reference
    got = embedding.embed(sentences)
    cosine = (got * vectors).sum(axis=1)
    # Reference vectors come from the unquantised torch model at export time.
    assert cosine.mean() >= 0.98, cosine
    substantial = [i for i, s in enumerate(sentences) if len(s.split()) >= 4]
    assert cosine[substantial].min() >= 0.97, cosine
    # Two-word inputs lose most to int8 activations; they must still point the same way.
    assert cosine.min() >= 0.95, cosine


def test_the_encoder_computes_the_vectors_the_heads_were_trained_on(
    reference: tuple[list[str], np.ndarray],
) -> None:
    """``civility train`` stores the encoder's vectors of the reference sentences with the
    heads, so shipping another encoder (a re-export, a re-tuning, another quantisation: cosine
    0.98-0.995 to the one before) without retraining the heads fails here. The bound leaves
    room for rounding: the 7-bit weights make the integer products the same on every x86 CPU,
    but onnxruntime picks its float kernels (attention products, softmax) by CPU, so the last
    bits may differ on another one; a rounding change of that kind (the SkipLayerNorm fusion
    on or off) moved these sentences by a cosine of 6e-6 at most."""
    from civility.standards.detectors.learned_model import HEADS_PATH

    sentences, _ = reference
    with np.load(HEADS_PATH) as data:
        trained_on = data["encoder_check_vectors"]
    embedding.full_model()._cache.clear()
    cosine = (embedding.embed(sentences) * trained_on).sum(axis=1)
    assert cosine.min() >= 0.999, cosine


def test_vectors_are_unit_length_and_deterministic() -> None:
    texts = ["Short.", "A somewhat longer comment about the council's budget decision."]
    first, second = embedding.embed(texts), embedding.embed(texts)
    assert first.shape == (2, embedding.FULL_DIMENSIONS)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-3)
    assert np.array_equal(first, second)


def test_tokenizer_pads_dynamically_and_truncates_at_256() -> None:
    config = json.loads(embedding.TOKENIZER_PATH.read_text(encoding="utf-8"))
    assert config["padding"] is None
    assert config["truncation"]["max_length"] == embedding.MAX_TOKENS
    tokenizer = embedding.full_model().tokenizer
    assert len(tokenizer.encode("hello").ids) == 3  # [CLS] hello [SEP], no padding to 128
    assert len(tokenizer.encode("word " * 1000).ids) == embedding.MAX_TOKENS


def test_a_vector_depends_only_on_its_own_text_not_on_its_batch() -> None:
    # The graph quantises activations with one range per input tensor, so the engine runs one
    # comment per call: a vector is then bit-identical alone, in any batch, and from the cache.
    texts = ["ok", "The minister resigned after the report. " * 20, "Thanks for the article!"]
    together = embedding.embed(texts)
    embedding.full_model()._cache.clear()
    for index, text in enumerate(texts):
        assert np.array_equal(embedding.embed([text])[0], together[index])
    embedding.full_model()._cache.clear()
    reversed_batch = embedding.embed(texts[::-1])
    assert np.array_equal(reversed_batch[::-1], together)


def test_very_long_and_odd_text_does_not_crash() -> None:
    odd = ["", "   ", "😀" * 50, "z\u0301\u0302\u0303" * 200, "\u202eevil\u202c", "x" * 10_000]
    vectors = embedding.embed(odd)
    assert vectors.shape == (len(odd), embedding.FULL_DIMENSIONS)
    assert np.isfinite(vectors).all()
    static = embedding.embed_static(odd)
    assert static.shape == (len(odd), embedding.static_model().dimensions)
    assert np.isfinite(static).all()


def test_static_vectors_are_unit_length_or_zero_for_empty_text() -> None:
    vectors = embedding.embed_static(["", "A clean comment about trains.", "you stupid idiot"])
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[0] == 0.0
    assert np.allclose(norms[1:], 1.0, atol=1e-4)


def test_static_stage_keeps_the_full_models_neighbourhoods() -> None:
    # The static table is distilled from the full model: related comments stay closer than
    # unrelated ones.
    texts = [
        "The football match ended in a draw after extra time.",
        "The soccer game was tied when the final whistle blew.",
        "Interest rates rose again, and mortgages will cost more.",
    ]
    vectors = embedding.embed_static(texts)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_annotate_sets_both_vectors_once() -> None:
    analyses = [analyse(Comment(text=t)) for t in ("first comment", "second comment")]
    embedding.annotate_static(analyses)
    embedding.annotate_full(analyses)
    for analysis in analyses:
        assert analysis.static_vector is not None
        assert analysis.embedding is not None
        assert analysis.embedding.shape == (embedding.FULL_DIMENSIONS,)
    kept = analyses[0].embedding
    embedding.annotate_full(analyses)  # already set: not recomputed
    assert analyses[0].embedding is kept


def test_a_forked_worker_embeds_batches_too() -> None:
    # Web and queue workers may fork after the model was loaded: the child must not wait for
    # the parent's embedding threads.
    import multiprocessing

    embedding.full_model()._cache.clear()
    embedding.embed(["load the model", "and start its pool"])
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        vectors = pool.apply_async(embedding.embed, (["one comment", "another one"],)).get(60)
    assert vectors.shape == (2, embedding.FULL_DIMENSIONS)
    assert np.array_equal(vectors, embedding.embed(["one comment", "another one"]))


def test_a_long_comment_alone_runs_on_every_core_and_gets_the_batch_vector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A long comment that comes alone (the web app's one post) runs on a second session with
    # one thread per core, for its latency: its vector must be the one a batch gives it.
    model = embedding.full_model()
    long_text = "The council's budget vote was delayed again, and residents are angry. " * 9
    short_text = "Thanks for the article!"
    tokens = len(model.tokenizer.encode(long_text).ids)
    # Long enough for the lone session, short enough to be encoded whole (not in windows).
    assert embedding.LONE_PARALLEL_MIN_TOKENS <= tokens <= embedding.SPLIT_ABOVE_TOKENS
    model._cache.clear()
    in_batch = embedding.embed([long_text, short_text])
    model._cache.clear()
    # The cores may be busy while the suite runs: say they are free, to take the lone path.
    monkeypatch.setattr(embedding, "_cores_free_for", lambda threads: True)
    calls: list[int] = []
    lone_session = model.lone_session

    def counted() -> object:
        calls.append(1)
        return lone_session()

    monkeypatch.setattr(model, "lone_session", counted)
    alone = embedding.embed([long_text])[0]
    assert np.array_equal(alone, in_batch[0])
    assert calls == ([1] if model._workers > 1 else [])
    model._cache.clear()
    # A comment too short to be worth two threads stays on one.
    assert len(model.tokenizer.encode(short_text).ids) < embedding.LONE_PARALLEL_MIN_TOKENS
    embedding.embed([short_text])
    assert len(calls) <= 1
    monkeypatch.undo()
    # And the two sessions agree at every length, up to the 256-token truncation.
    one_thread, parallel = model.session, model.lone_session()
    separator = model.tokenizer.token_to_id("[SEP]")
    assert separator is not None
    for count in (3, 40, 64, 130, embedding.MAX_TOKENS):
        ids = [*model.tokenizer.encode(long_text * 3).ids[: count - 1], separator]
        for parallel_output, one_output in zip(
            model._run_one(ids, parallel), model._run_one(ids, one_thread), strict=True
        ):
            assert np.array_equal(parallel_output, one_output)


def test_cores_free_reads_the_running_count() -> None:
    # The calling thread is running, so one more thread than there are cores never fits.
    assert embedding._cores_free_for(embedding._available_cores() + 1) is False


def _embed_alone_in_child(text: str) -> tuple[np.ndarray, bool]:
    model = embedding.full_model()
    model._cache.clear()
    parents_lone_session = model._lone_session
    vector = embedding.embed([text])[0]
    return vector, model._lone_session is parents_lone_session


def test_a_forked_worker_embeds_a_long_comment_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A forked child has none of the parent's onnxruntime threads: it runs a long comment alone
    # on the one-thread session (no new threaded session there), and gets the same vector.
    import multiprocessing

    monkeypatch.setattr(embedding, "_cores_free_for", lambda threads: True)
    model = embedding.full_model()
    text = "Residents packed the hall to argue about the new bus lanes for hours. " * 10
    assert len(model.tokenizer.encode(text).ids) <= embedding.SPLIT_ABOVE_TOKENS
    model._cache.clear()
    expected = embedding.embed([text])[0]
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        vector, untouched = pool.apply_async(_embed_alone_in_child, (text,)).get(60)
    assert np.array_equal(vector, expected)
    assert untouched


def test_windows_cover_a_long_comments_tokens_once_each() -> None:
    short = list(range(1000, 1000 + embedding.SPLIT_ABOVE_TOKENS))
    assert embedding.windows(short) == [short]
    for length in (embedding.SPLIT_ABOVE_TOKENS + 1, 201, embedding.MAX_TOKENS):
        ids = [101, *range(1000, 1000 + length - 2), 102]
        parts = embedding.windows(ids)
        assert len(parts) == 2
        assert all(p[0] == 101 and p[-1] == 102 for p in parts)
        assert all(len(p) - 2 <= embedding.WINDOW_TOKENS for p in parts)
        assert [t for p in parts for t in p[1:-1]] == ids[1:-1]
        assert abs(len(parts[0]) - len(parts[1])) <= 1


def test_a_comment_over_the_split_is_the_weighted_mean_of_its_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its windows run side by side (for the lone comment's latency); the vector is still a
    # function of the text only: the same alone, in a batch, and from the windows by hand.
    model = embedding.full_model()
    text = "Residents packed the hall to argue about the new bus lanes for hours. " * 17
    ids = model.tokenizer.encode(text).ids
    assert len(ids) > embedding.SPLIT_ABOVE_TOKENS
    parts = embedding.windows(ids)
    by_hand = np.zeros(embedding.FULL_DIMENSIONS)
    for part in parts:
        by_hand += (len(part) - 2) * model._run_one(part)[0].astype(np.float64)
    by_hand /= np.linalg.norm(by_hand)
    model._cache.clear()
    monkeypatch.setattr(embedding, "_cores_free_for", lambda threads: True)
    alone = embedding.embed([text])[0]
    assert np.array_equal(alone, by_hand.astype(np.float32))
    model._cache.clear()
    in_batch = embedding.embed(["Thanks!", text, "ok"])[1]
    assert np.array_equal(alone, in_batch)
    assert abs(float(np.linalg.norm(alone)) - 1.0) < 1e-5
    # It points where the whole text's vector points.
    whole = model._run_one(ids)[0]
    assert float(alone @ whole) >= 0.8


def test_the_full_models_ids_come_from_the_static_stages_tokens() -> None:
    # annotate_static keeps each comment's word pieces, and the full model builds its input
    # from them instead of tokenising the text again: it must be its own tokenizer's input.
    texts = [
        "",
        "ok",
        "Ünïcödé façade — naïve café, 東京 and emoji 😀!",
        "f*ck th1s $h1t http://example.com/a?b=c",
        "word " * 600,
        "The minister resigned after the report. " * 30,
    ]
    static_ids = embedding.static_model().token_ids(texts)
    for text, ids in zip(texts, static_ids, strict=True):
        assert embedding.full_ids(ids) == embedding.full_model().tokenizer.encode(text).ids
    analyses = [analyse(Comment(text)) for text in texts]
    embedding.annotate_static(analyses)
    assert all(embedding.WORD_PIECES_CACHE_KEY in a.cache for a in analyses)
    embedding.full_model()._cache.clear()
    embedding.annotate_full(analyses)
    embedding.full_model()._cache.clear()
    fresh = embedding.embed(texts)
    for analysis, vector in zip(analyses, fresh, strict=True):
        assert analysis.embedding is not None
        assert np.array_equal(analysis.embedding, vector)


def test_the_free_cores_gate_counts_the_calling_thread_among_its_own() -> None:
    # The gate subtracts this process's runnable threads from /proc/loadavg's count; the
    # thread asking is running, so it is always among them.
    assert embedding._own_running_threads() >= 1
    assert isinstance(embedding._cores_free_for(1), bool)


def test_the_token_vectors_output_is_what_the_graph_pools() -> None:
    # The graph's second output (training/token_states.py) is the input of its mean pooling:
    # their normalised mean is the sentence vector.
    model = embedding.full_model()
    ids = model.tokenizer.encode("The harbour bridge reopens on Monday after repairs.").ids
    vector, token_vectors = model._run_one(ids)
    assert token_vectors.shape == (len(ids), embedding.FULL_DIMENSIONS)
    pooled = token_vectors.mean(axis=0)
    assert np.allclose(pooled / np.linalg.norm(pooled), vector, atol=1e-5)


def test_sentences_end_at_stops_and_newlines_but_not_inside_numbers() -> None:
    # ("e.g. for" is split too: sentence_pieces joins such short pieces to the next.)
    text = '  It costs 3.5 million, e.g. for roads!  Really?\nYes \u2026 "Fine." Done'
    found = [text[a:b] for a, b in embedding.sentence_spans(text)]
    assert found == [
        "It costs 3.5 million, e.g.",
        "for roads!",
        "Really?",
        "Yes \u2026",
        '"Fine."',
        "Done",
    ]
    assert embedding.sentence_spans("") == []
    assert embedding.sentence_spans(" \n\t ") == []
    assert embedding.sentence_spans("no stop at all") == [(0, 14)]


def test_short_sentences_join_their_neighbours_and_long_lists_are_grouped() -> None:
    def offsets(*lengths: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """One sentence per length, of that many one-character tokens, a space between."""
        spans, tokens, position = [], [], 0
        for length in lengths:
            spans.append((position, position + 2 * length - 1))
            tokens += [(position + 2 * k, position + 2 * k + 1) for k in range(length)]
            position += 2 * length + 1
        return spans, tokens

    minimum = embedding.SENTENCE_MIN_TOKENS
    spans, tokens = offsets(2, minimum, minimum + 3, 1)
    pieces = embedding.sentence_pieces(spans, tokens)
    # "Yes." joins the sentence after it; the short last one joins the one before.
    assert [(p[2], p[3]) for p in pieces] == [(0, 2 + minimum), (2 + minimum, 2 * minimum + 6)]
    assert pieces[0][0] == spans[0][0] and pieces[-1][1] == spans[-1][1]
    assert embedding.sentence_pieces(*offsets(minimum + 4)) == []
    assert embedding.sentence_pieces(*offsets(minimum, 2)) == []
    many = embedding.sentence_pieces(*offsets(*[minimum] * 20))
    assert len(many) == embedding.MAX_SENTENCES
    assert many[0][2] == 0 and many[-1][3] == 20 * minimum
    assert all(a[3] == b[2] for a, b in itertools.pairwise(many))
    # Sentences the model never read (past its 256 tokens) are left out.
    spans, tokens = offsets(minimum, minimum, minimum)
    assert len(embedding.sentence_pieces(spans, tokens[: 2 * minimum])) == 2


def test_sentence_vectors_pool_each_sentences_tokens_in_and_across_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = embedding.full_model()
    short = "The council approved the budget. Residents were not consulted at all."
    long = "Residents packed the hall to argue about the new bus lanes for hours. " * 17
    model._cache.clear()
    vectors, sentences = model.embed_with_sentences([short, long, "Just one sentence here."])
    assert np.array_equal(vectors, embedding.embed([short, long, "Just one sentence here."]))
    assert sentences[2] is None
    first = sentences[0]
    assert first is not None
    assert [short[a:b] for a, b in first.spans] == [
        "The council approved the budget.",
        "Residents were not consulted at all.",
    ]
    ids = model.tokenizer.encode(short).ids
    body = model._run_one(ids)[1][1:-1]
    by_hand = body[: len(model.tokenizer.encode("The council approved the budget.").ids) - 2]
    mean = by_hand.mean(axis=0)
    assert np.allclose(first.vectors[0], mean / np.linalg.norm(mean), atol=1e-3)
    # The long comment runs as two windows; its sentences are pooled across both.
    many = sentences[1]
    assert many is not None and len(many.spans) == embedding.MAX_SENTENCES
    assert np.allclose(np.linalg.norm(many.vectors.astype(np.float32), axis=1), 1.0, atol=1e-2)
    # From the text cache, alone on every core, and in another batch: the same sentences.
    monkeypatch.setattr(embedding, "_cores_free_for", lambda threads: True)
    cached = model.embed_with_sentences([long])[1][0]
    model._cache.clear()
    alone = model.embed_with_sentences([long])[1][0]
    for other in (cached, alone):
        assert other is not None
        assert other.spans == many.spans
        assert np.array_equal(other.vectors, many.vectors)
    # A plain embed() leaves the sentences out; the engine's call after it works them out.
    model._cache.clear()
    embedding.embed([short])
    again = model.embed_with_sentences([short])[1][0]
    assert again is not None and again.spans == first.spans
    assert np.array_equal(again.vectors, first.vectors)


def test_the_engines_sentences_from_the_static_stages_offsets_match_a_fresh_tokenisation() -> None:
    texts = [
        "Ünïcödé façade, naïve café! Then 東京 and emoji 😀 follow here. Done with it now.",
        "The minister resigned after the report. " * 30,
        "First line of a reply without a stop\nsecond line that goes on and on\nthird",
        "One sentence only, however long it may be, with commas, and more commas",
    ]
    analyses = [analyse(Comment(text)) for text in texts]
    embedding.annotate_static(analyses)
    assert all(embedding.ENCODING_CACHE_KEY in a.cache for a in analyses)
    model = embedding.full_model()
    model._cache.clear()
    embedding.annotate_full(analyses)
    model._cache.clear()
    _, fresh = model.embed_with_sentences(texts)
    assert fresh[3] is None
    for analysis, expected in zip(analyses, fresh, strict=True):
        if expected is None:
            assert analysis.sentences is None
            continue
        assert analysis.sentences is not None
        assert analysis.sentences.spans == expected.spans
        assert np.array_equal(analysis.sentences.vectors, expected.vectors)
    third = fresh[2]
    assert third is not None
    assert [texts[2][a:b] for a, b in third.spans] == [
        "First line of a reply without a stop",
        "second line that goes on and on\nthird",
    ]


SENTENCE_BREAK_PLAIN = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019\u00bb)\]]*\s+|\s*\n\s*")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=list("ab3.!?\u2026 \n\t\"')]\u2019\u00a0\r"), max_size=40))
def test_sentence_breaks_are_the_plain_patterns_found_in_linear_time(text: str) -> None:
    """The shipped pattern only lets each alternative start where a run of its first
    characters starts, so that 10,000 "!" or spaces take linear time (the plain form tried
    every position of the run to its end: 700 and 80 ms); the breaks must be the same."""
    shipped = [m.span() for m in embedding._SENTENCE_BREAK.finditer(text)]
    assert shipped == [m.span() for m in SENTENCE_BREAK_PLAIN.finditer(text)]


def test_a_comment_of_nothing_but_punctuation_or_spaces_is_split_like_any_other() -> None:
    assert embedding.sentence_spans("!" * 10_000) == [(0, 10_000)]
    assert embedding.sentence_spans("a" + " " * 9_998 + "b") == [(0, 10_000)]
    assert embedding.sentence_spans("Yes!!! " * 3) == [(0, 6), (7, 13), (14, 20)]
