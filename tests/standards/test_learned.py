"""The learned detector: calibrated heads, the screen, lexicon evidence, availability."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civility.standards import embedding
from civility.standards.analysis import Analysis, analyse
from civility.standards.detectors.learned import (
    CUE_NAMES,
    LEARNED_SLUGS,
    PROFANITY_CACHE_KEY,
    LearnedDetector,
    calibrate,
    cue_vector,
    lexicon_hits,
    load_heads,
)
from civility.standards.detectors.learned_model import (
    SLUR_CUES,
    _cue_pattern_set,
    _cue_patterns,
    _lower_case_form,
    cue_group,
)
from civility.standards.detectors.profanity import ProfanityDetector
from civility.standards.detectors.topic import OffTopicDetector
from civility.standards.engine import EMPTY_CONTEXT, Engine
from civility.standards.policy import default_policy
from civility.standards.text import skeleton
from civility.standards.training.heads import CUE_GROUPS
from civility.standards.types import Comment


@pytest.fixture(scope="module")
def detector() -> LearnedDetector:
    return LearnedDetector(default_policy())


def prepared(text: str, *, full: bool = True) -> Analysis:
    analysis = analyse(Comment(text=text))
    embedding.annotate_static([analysis])
    if full:
        embedding.annotate_full([analysis])
    return analysis


def test_heads_cover_every_learned_rule_and_profanity() -> None:
    heads = load_heads()
    assert set(LEARNED_SLUGS) <= set(heads.slugs)
    assert "profanity" in heads.slugs
    assert heads.full_weights.shape == (len(heads.slugs), embedding.FULL_DIMENSIONS)
    assert np.all(heads.full_knots[:, 0] < heads.full_knots[:, 1])
    assert heads.cue_weights.shape == (len(heads.slugs), len(CUE_NAMES))
    # A head reads the cue groups CUE_GROUPS gives it (training/heads.py) and no other cue.
    for slug in heads.slugs:
        weights = heads.cue_weights[heads.index(slug)]
        used = {cue_group(n) for n, w in zip(CUE_NAMES, weights, strict=True) if w != 0}
        groups = CUE_GROUPS.get(slug, frozenset())
        assert used <= groups and bool(used) == bool(groups), (slug, used)
    for slug in ("trolling", "advertising", "animal_cruelty", "promotion"):
        assert slug not in CUE_GROUPS


def cue(text: str, name: str) -> float:
    return float(cue_vector(text)[CUE_NAMES.index(name)])


def test_slur_cue_sees_through_disguises_but_not_into_ordinary_words() -> None:
    assert cue("you f@gg0t", "hate:slur") == 1.0
    assert cue("k.i.k.e", "hate:slur") == 1.0
    assert cue("Scunthorpe snickers at the spice market", "hate:slur") == 0.0
    assert cue("", "hate:slur") == 0.0


def test_spam_cues_mark_links_and_channel_plugs() -> None:
    assert cue("see https://example.com/win", "spam:url") == 1.0
    assert cue("Please subscribe to my channel", "spam:channel") == 1.0
    assert cue("The council meeting is on Tuesday.", "spam:url") == 0.0


# The cues of lexicons/cues.txt that start only where a run of characters starts, in their
# plain form, with pieces of text that make long runs and the matches around them.
PLAIN_CUES = {
    "spam:url": (
        r"(?:https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|ly|me|io|co|tv|info|biz)\b)",
        ["a", "B", "1", "-", ".", ".com", ".co", "_", " ", "www.", "x.io", "é"],
    ),
    "spam:earn_rate": (
        r"(?:[$£€]\s?\d[\d,.]*\s*k?|\b\d[\d,.]*\s*(?:dollars|pounds|euros|usd|eur|gbp))"
        r"\s*(?:(?:per|an?|every|/)\s*(?:hour|hr|day|week|month)|daily|weekly|monthly)\b",
        ["1", "2", ",", ".", "$", "£", " ", "k", " dollars", " per hour", "a", " daily", "/"],
    ),
}


@pytest.mark.parametrize("name", sorted(PLAIN_CUES))
def test_cues_that_start_where_a_run_starts_are_their_plain_patterns(name: str) -> None:
    """spam:url and spam:earn_rate only start where a run of their first characters starts,
    so that "a-a-a-..." or "1,1,1,..." over 10,000 characters takes linear time, where the
    plain forms took 370 ms and 1.1 s trying every position of the run to its end. Their
    answers must be the plain forms' (on the skeleton or the text as written, as every cue
    is searched)."""
    expression, pieces = PLAIN_CUES[name]
    plain_pattern = re.compile(expression, re.IGNORECASE)

    @settings(max_examples=400, deadline=None)
    @given(st.lists(st.sampled_from(pieces), max_size=14).map("".join))
    def same_answer(text: str) -> None:
        plain = plain_pattern.search(skeleton(text).text) or plain_pattern.search(text)
        assert cue(text, name) == float(bool(plain)), text

    same_answer()


def test_insult_cues_mark_insulting_words_and_their_address() -> None:
    assert cue("You're such a clueless idiot.", "insult:at_you") == 1.0
    assert cue("The mayor is a spineless coward.", "insult:insult_noun") == 1.0
    assert cue("Shut up and get a life.", "insult:dismiss") == 1.0
    assert cue("I disagree with the mayor about the budget.", "insult:insult_noun") == 0.0
    assert cue("You are right about the bridge.", "insult:at_you") == 0.0


def test_narcotics_cues_join_a_drug_to_a_way_of_getting_it() -> None:
    dealing = "Anyone after zaza, I do drops across the north side, snap me."
    assert cue(dealing, "narcotics:drug_deal") == 1.0
    assert cue("Best place to score molly is the back bar, ask for Dave.", "narcotics:drug_deal")
    assert cue("Tickets at the box office on Friday, ask for Dave.", "narcotics:drug_deal") == 0
    assert cue("Molly and acid at the shack by the beach.", "narcotics:drug_word") == 1.0
    assert cue("The council meeting is on Tuesday.", "narcotics:drug_word") == 0.0


def test_hate_cues_mark_groups_and_the_rights_denied_them() -> None:
    assert cue("Women shouldn't be allowed to vote.", "hate:exclude") == 1.0
    assert cue("Women shouldn't be allowed to vote.", "hate:group_more") == 1.0
    assert cue("Disabled people are a drain on us all.", "hate:group_more") == 1.0
    assert cue("Whoever wrote that is a bigot, report it.", "hate:condemn") == 1.0
    assert cue("Women's football drew a record crowd.", "hate:exclude") == 0.0


@pytest.mark.parametrize(
    ("slug", "telling_cue"),
    [("insult", "insult:at_you"), ("narcotics", "narcotics:drug_deal"), ("hate", "hate:exclude")],
)
def test_heads_weigh_their_telling_cues_upwards(slug: str, telling_cue: str) -> None:
    heads = load_heads()
    assert heads.cue_weights[heads.index(slug)][CUE_NAMES.index(telling_cue)] > 0


def test_calibration_is_monotone_and_puts_the_knots_at_the_policy_defaults() -> None:
    knots = np.array([[0.3, 0.8]])
    assert calibrate(np.array([0.3]), knots)[0] == pytest.approx(0.5)
    assert calibrate(np.array([0.8]), knots)[0] == pytest.approx(0.9)
    values = [calibrate(np.array([x]), knots)[0] for x in np.linspace(0, 1, 50)]
    assert values == sorted(values)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Go kill yourself, nobody would miss you.", "self_harm"),
        ("I know where you live and I'm coming for you tonight.", "threat"),
        ("Make $5000 a week from home, click the link in my profile!!!", "spam"),
        ("You are a pathetic moron and everyone here laughs at you.", "insult"),
        ("DM me for the best coke in town, fast delivery.", "narcotics"),
    ],
)
def test_clear_violations_fire(detector: LearnedDetector, text: str, rule: str) -> None:
    findings = detector.detect(prepared(text), EMPTY_CONTEXT)
    assert findings[rule].score >= 0.5, {k: round(v.score, 2) for k, v in findings.items()}
    assert findings[rule].evidence


@pytest.mark.parametrize(
    "text",
    [
        "The council's budget leaves the libraries underfunded; I hope they reconsider.",
        "Decriminalisation in Portugal cut overdose deaths, the article says. Worth studying.",
        "If you are struggling, please call the helpline. It helped my sister.",
        "Great reporting, thank you.",
    ],
)
def test_ordinary_and_hard_negative_comments_stay_under_the_queue_point(
    detector: LearnedDetector, text: str
) -> None:
    findings = detector.detect(prepared(text), EMPTY_CONTEXT)
    fired = {slug: round(f.score, 2) for slug, f in findings.items() if f.score >= 0.5}
    assert not fired


@pytest.fixture(scope="module")
def profanity_engine() -> Engine:
    """The profanity rule as it decides: its lexicon and the learned head, noisy-OR."""
    policy = default_policy()
    return Engine(
        policy, strict=True, detectors=[LearnedDetector(policy), ProfanityDetector(policy)]
    )


# Casual posts in the informal style of the head's public data (tweets, mostly offensive), with
# no offensive word: written for this test, apart from the seeds of ``seeds/casual_clean``.
# Before the head was calibrated for mostly clean comments (``heads.DEPLOYMENT_PRIOR``) and
# saw those seeds, the first five scored 0.92-0.97: rejected for a mention and an informal tone.
CASUAL_CLEAN = (
    "@USER OH MY GOSH",
    "@USER i hate when people dont text back",
    "@USER yall are crazy lol",
    "@USER Glad nobody saw me trip on the stairs",
    "@jaybird_77 lol what are you even doing up this late",
    "@USER congrats on the new job!! you deserve it fr",
    "lmao my cat just knocked the whole plant off the shelf",
    "@USER omg the new season drops tomorrow and i have NOT finished the last one",
)


@pytest.mark.parametrize("text", CASUAL_CLEAN)
def test_casual_posts_without_offensive_words_are_not_profanity(
    profanity_engine: Engine, text: str
) -> None:
    result = profanity_engine.check(Comment(text=text)).results["profanity"]
    assert not result.fired, round(result.score, 2)


@pytest.mark.parametrize(
    "text",
    [
        "@USER shut the fuck up, nobody asked you",
        "this shit is so damn stupid lmao",
        "what a stupid little bitch",
    ],
)
def test_offensive_casual_posts_are_still_profanity(profanity_engine: Engine, text: str) -> None:
    result = profanity_engine.check(Comment(text=text)).results["profanity"]
    assert result.score >= 0.9, round(result.score, 2)


def test_lexicon_spans_index_the_original_text(detector: LearnedDetector) -> None:
    text = "Honestly?   Just KILL YOURSELF already."
    findings = detector.detect(prepared(text), EMPTY_CONTEXT)
    spans = [e for e in findings["self_harm"].evidence if e.start is not None]
    assert spans
    assert "kill yourself" in text[spans[0].start : spans[0].end].lower()
    assert lexicon_hits("self_harm", "The suicide prevention charity needs volunteers.") == []


def test_screen_settles_only_below_the_queue_point_and_defers_evident_trouble(
    detector: LearnedDetector,
) -> None:
    calm = prepared("Thanks for the article, the photos of the harbour are lovely.", full=False)
    settled = detector.screen(calm, EMPTY_CONTEXT)
    if settled is not None:  # the screen is conservative: it may also defer a calm comment
        assert all(f.score < 0.5 for f in settled.values())
    nasty = prepared("Go hang yourself you worthless piece of garbage", full=False)
    assert detector.screen(nasty, EMPTY_CONTEXT) is None


def test_profanity_head_is_shared_through_the_analysis_cache(detector: LearnedDetector) -> None:
    rude, polite = (
        prepared("shut the fuck up you fucking bitch"),
        prepared("Thank you, kind regards."),
    )
    detector.detect(rude, EMPTY_CONTEXT)
    detector.detect(polite, EMPTY_CONTEXT)
    rude_score = float(rude.cache[PROFANITY_CACHE_KEY])  # type: ignore[arg-type]
    assert rude_score >= 0.5 > float(polite.cache[PROFANITY_CACHE_KEY])  # type: ignore[arg-type]


def test_other_languages_are_not_available_rather_than_guessed(detector: LearnedDetector) -> None:
    analysis = prepared("Ceci est un commentaire tout à fait ordinaire sur la politique locale.")
    analysis.language = "fr"
    findings = detector.detect(analysis, EMPTY_CONTEXT)
    assert all(not f.available for f in findings.values())
    assert detector.screen(analysis, EMPTY_CONTEXT) is not None


def test_empty_and_symbol_only_comments_are_settled_clean(detector: LearnedDetector) -> None:
    for text in ("", "   ", "😀😀😀", "!!!"):
        analysis = prepared(text, full=False)
        settled = detector.screen(analysis, EMPTY_CONTEXT)
        if settled is None:  # a symbol the tokenizer knows: the full model decides
            embedding.annotate_full([analysis])
            settled = detector.detect(analysis, EMPTY_CONTEXT)
        assert all(f.score < 0.5 for f in settled.values())


@pytest.fixture(scope="module")
def engines() -> tuple[Engine, Engine]:
    policy = default_policy()
    detectors = [LearnedDetector(policy), OffTopicDetector(policy)]
    return (
        Engine(policy, strict=True, detectors=detectors),
        Engine(policy, strict=True, cascade=False, detectors=detectors),
    )


def test_cascade_gives_the_same_decisions_as_the_full_model(engines: tuple[Engine, Engine]) -> None:
    cascade, full = engines
    comments = [
        Comment(text=t)
        for t in (
            "Lovely photos, thanks for sharing.",
            "I disagree with the mayor, the bus plan is too expensive.",
            "Kill yourself, loser.",
            "Subscribe to my channel for free gift cards!!!",
            "You are an idiot.",
            "What time does the market open on Sundays?",
        )
    ]
    first = [v.decision for v in cascade.check_many(comments)]
    second = [v.decision for v in full.check_many(comments)]
    assert first == second


def test_same_input_gives_the_same_verdict(engines: tuple[Engine, Engine]) -> None:
    cascade, _ = engines
    comment = Comment(text="Some people here are clowns, honestly.")
    assert cascade.check(comment).to_dict() == cascade.check(comment).to_dict()


def _reference_pattern_cues(text: str) -> list[float]:
    """The cues of lexicons/cues.txt as first written: every pattern, case-insensitive, on
    the skeleton and on the text as written."""
    skel = skeleton(text)
    return [
        1.0 if pattern.search(skel.text) or pattern.search(text) else 0.0
        for _, _, pattern in _cue_patterns()
    ]


def test_pattern_cues_equal_the_plain_search_on_varied_texts() -> None:
    pieces = [
        "Check OUT my channel", "SUBSCRIBE plz!!!", "visit WWW.Example.COM now", "http://x.ly/a",
        "they are VERMIN", "Send Them Back", "inferior RACE", "free $50 gift card", "sub4sub",
        "\u017fubscribe", "\u212aick them out", "İmmigrants", "\uff4d\uff59 \uff43\uff48\uff41\uff4e\uff4e\uff45\uff4c", "c.h.e.c.k o.u.t",
        "ch3ck 0ut my v1deos", "the council meets on Tuesday", "Please like and share",
        "Follow Me", "go back to", "Jews", "??!", "Ωmega", "views", "m y  c h a n n e l",
    ]  # fmt: skip
    texts = [
        " ".join(pieces[(i * 7 + j * 3) % len(pieces)] for j in range(i % 4 + 1))
        for i in range(300)
    ] + pieces
    start = len(SLUR_CUES)
    for text in texts:
        found = [float(v) for v in cue_vector(text, with_words=False)]
        assert found[start : start + len(_cue_patterns())] == _reference_pattern_cues(text), text


def test_lower_case_pattern_forms_refuse_what_case_would_change() -> None:
    assert _lower_case_form(r"\bcheck\s+out\b") is not None
    assert _lower_case_form("[a-z0-9-]+") is not None
    assert _lower_case_form(r"\bL\b|code\s+[A-Z0-9]{4,}") == re.compile(
        r"\bl\b|code\s+[a-z0-9]{4,}"
    )
    for expression in ("(?i)x", r"\x41", "[!-_]", "[A-z]", "[^]!-_]", "é"):
        assert _lower_case_form(expression) is None, expression


def test_phrase_and_act_searches_equal_the_case_insensitive_search(
    detector: LearnedDetector,
) -> None:
    texts = [
        "Ratio + L", "use Referral Code AB12CD for 10%", "KILL YOURSELF", "kill yourself",
        "they KICKED the dog", "\u212aicked the cat", "DM ME FOR COKE", "the dog was fine",
        "\u0130 will hurt the cat", "L + ratio", "promo code abcd", "Promo Code \u00c9T\u00c91",
    ]  # fmt: skip
    phrases = detector._any_phrase
    assert phrases is not None and phrases.ascii_set.takes_stand_ins
    # Both sets fit RE2's memory budget (a set over it would fall back to Python's re).
    assert phrases.ascii_set.compiled and _cue_pattern_set().compiled
    assert _cue_pattern_set().in_python == {CUE_NAMES.index("spam:url") - len(SLUR_CUES)}
    for text in texts:
        assert phrases.found_in(text) == bool(phrases.alternation.search(text)), text
    for pattern in detector._act_cues.values():
        assert pattern.lower_form is not None and pattern.ascii_form is not None
        assert pattern.takes_stand_ins
        for text in texts:
            assert pattern.found_in(text) == bool(pattern.pattern.search(text)), text
    assert phrases.found_in("Ratio + L")


_SEARCH_PIECES = st.sampled_from(
    [
        "watch your back", " when", "you'll pay for this", " your family", "see you soon",
        " at your house", "was a hero", " the shooter", "kicked the dog", "dogfight", " fun",
        "subscribe", "my channel", "check out", "www.", "example.com", "$50 an hour",
        "\u00a350 per day", "weed", " hmu", "kill", "the cat", "3-mmc", "go back to",
        "\u212a", "\u017f", "\u0130", "\u0131", "\u00e9", "\u0663", "\u00a0", "\u2028",
        "\u201c", "\u2019", "\ufeff", "\U0001f602", "_", "`", "\x1f", "\x0b", " ", "\n",
        "!!!", "A", "z", "1", ".",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_SEARCH_PIECES | st.text(max_size=3), max_size=12))
def test_phrase_and_act_searches_hold_on_any_text(
    detector: LearnedDetector, pieces: list[str]
) -> None:
    text = "".join(pieces)
    phrases = detector._any_phrase
    assert phrases is not None
    assert phrases.found_in(text) == bool(phrases.alternation.search(text))
    for pattern in detector._act_cues.values():
        assert pattern.found_in(text) == bool(pattern.pattern.search(text))


@settings(max_examples=400, deadline=None)
@given(st.lists(_SEARCH_PIECES | st.text(max_size=3), max_size=12))
def test_pattern_cues_equal_the_plain_search_on_any_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    start = len(SLUR_CUES)
    found = [float(v) for v in cue_vector(text, with_words=False)]
    assert found[start : start + len(_cue_patterns())] == _reference_pattern_cues(text)


def test_whole_matrix_calibration_gives_np_interps_values_bit_for_bit() -> None:
    # The detector maps a (comments, heads) matrix of raw probabilities in a few whole-matrix
    # steps; numpy's interp, one head at a time, is the reference. Values on the knots, at 0
    # and 1, just beside a knot, in float32 and float64, and batches of every small size.
    from civility.standards.detectors.learned import _calibrate_columns, _ColumnCalibration

    knots = load_heads().full_knots
    calibration = _ColumnCalibration(knots)
    assert calibration.ordered
    heads = knots.shape[0]
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for rows in (1, 2, 3, 4, 5, 64):
            for _ in range(50):
                raw = rng.random((rows, heads)).astype(dtype)
                raw[0] = np.where(rng.random(heads) < 0.3, knots[:, 0], raw[0])
                raw[-1] = np.where(rng.random(heads) < 0.3, knots[:, 1], raw[-1])
                raw[-1, 0], raw[-1, 1] = 0.0, 1.0
                raw[-1, 2] = np.nextafter(knots[2, 0], 0.0)
                got = calibration(raw)
                assert got.dtype == raw.dtype
                assert np.array_equal(got, _calibrate_columns(raw, knots))
    # Out-of-order knots and non-finite values take numpy's own path.
    odd = knots.copy()
    odd[0] = [0.9, 0.5]
    raw = rng.random((3, heads))
    raw[1, 3] = np.nan
    assert np.array_equal(
        _ColumnCalibration(odd)(raw), _calibrate_columns(raw, odd), equal_nan=True
    )
    assert np.array_equal(calibration(raw), _calibrate_columns(raw, knots), equal_nan=True)


def test_the_model_marks_the_sentence_that_reads_most_like_the_violation(
    detector: LearnedDetector,
) -> None:
    text = (
        "The council meeting ran late again and the budget vote moved to March. "
        "You are a pathetic moron and everyone on this street hates you."
    )
    evidence = detector.detect(prepared(text), EMPTY_CONTEXT)["insult"].evidence
    marked = [e for e in evidence if "marked sentence" in e.explanation]
    assert len(marked) == 1
    assert marked[0].text == "You are a pathetic moron and everyone on this street hates you."
    assert marked[0].start is not None and marked[0].end is not None
    assert text[marked[0].start : marked[0].end] == marked[0].text
    # One sentence: the whole comment is what the model read, so nothing is marked.
    alone = detector.detect(prepared(marked[0].text), EMPTY_CONTEXT)["insult"]
    assert alone.score >= 0.5
    assert all(e.start is None for e in alone.evidence if "sentence model" in e.explanation)
    # The first stage reads no sentences.
    first = prepared(text, full=False)
    for finding in (detector.screen(first, EMPTY_CONTEXT) or {}).values():
        assert all("marked sentence" not in e.explanation for e in finding.evidence)
