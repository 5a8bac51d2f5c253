"""Which of several regular expressions occur in a lower-case ASCII text, in one pass.

Python's ``re`` searches one pattern at a time, and each search tries the pattern at every
position, so the learned rules' 27 cue patterns cost about 0.19 ms a comment (two texts, the
skeleton and the text as written). RE2 (google-re2) compiles many patterns into one
automaton that reads the text once and reports every pattern that matches somewhere: 0.02 ms
for the same answers (models/README.md section 1, "The engine's Python part").

The answers are Python's: a pattern goes to RE2 only where :func:`re2_form` can restate it
with the same meaning on ASCII text (Python's ``\\s`` spelled out, no anchors whose meaning
differs); one RE2 cannot run (look-arounds, possessive quantifiers) is searched with ``re``,
and only where its :func:`superset_form`, which the set searches, matches. Only lower-case
ASCII text is given to a set: a text with other characters goes as its
:func:`ascii_stand_in`, or, where that cannot be exact, to the case-insensitive Python
pattern (learned_model.CaselessPattern, CaselessAlternatives).

A pattern set never answers "no match" because its automaton ran out of memory: RE2 refuses
to compile a set whose memory budget cannot hold the automaton's start, and a set's search
then flushes its state cache as often as it must instead of giving up (RE2's dfa.cc: "RE2::Set
cannot fall back, so we just have to keep on keeping on").
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterator, Sequence
from typing import Any

try:
    import re2
except ImportError:  # pragma: no cover - google-re2 is a dependency; Python's re still answers
    re2 = None

logger = logging.getLogger(__name__)

# Python's ``\s`` on ASCII text: str.isspace() is true for these (\x1c-\x1f included); RE2's
# ``\s`` lacks \v and \x1c-\x1f.
_PYTHON_SPACE = r"\t\n\v\f\r \x1c-\x1f"
# Escapes with one meaning in both engines on ASCII text (ASCII classes, word boundaries).
_SHARED_ESCAPES = frozenset("bBwWdD")
# The most an automaton and its state cache may hold, per set or single pattern: enough for
# every set built here (RE2 needs its program and 20 states; both of the learned rules' sets
# compile at 1 MB, tested), and small beside the engine's 500 MB. A full cache is flushed and
# its states built again, which is what a small budget costs: on the benchmark mix the cue
# set's search took 23 us a text at 1 MB, 14 at 4 MB and 6.5 at 8 and 16 MB (Intel Xeon,
# AVX-512, 1 December 2026), and 8 MB raised the peak RSS of a 10,000-comment stream pass by
# 4 MB over 1 MB.
SET_MEMORY = 8 << 20

# Stand-ins that let a text with other characters be searched as ASCII (:func:`ascii_stand_in`):
# each behaves, in a pattern written in ASCII that never names it, as the characters it
# replaces do there: a word character that is no letter or digit, a space, and neither.
WORD_STAND_IN = "_"
SPACE_STAND_IN = "\x1f"
OTHER_STAND_IN = "`"
_NO_STAND_IN = "\x00"  # marks a character without one (a digit of another script)
_STAND_INS = (WORD_STAND_IN, SPACE_STAND_IN, OTHER_STAND_IN, _NO_STAND_IN)


class _StandInTable(dict[int, str]):
    """``str.translate`` table, filled as characters are met: each character's stand-in,
    worked out with Python's own ``re`` so that it is exact by construction."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch.isascii():
            stand_in = ch
        else:
            letter = next(
                (a for a in string.ascii_lowercase if re.fullmatch(a, ch, re.IGNORECASE)), None
            )
            if letter is not None:
                stand_in = letter  # "\u212a" (Kelvin) is "k" to a case-insensitive pattern
            elif re.fullmatch(r"\d", ch):
                stand_in = _NO_STAND_IN
            elif re.fullmatch(r"\w", ch):
                stand_in = WORD_STAND_IN
            elif re.fullmatch(r"\s", ch):
                stand_in = SPACE_STAND_IN
            else:
                stand_in = OTHER_STAND_IN
        if len(self) < 65_536:  # bounded: a flood of distinct rare characters is not kept
            self[code] = stand_in
        return stand_in


_STAND_IN_TABLE = _StandInTable()


def ascii_stand_in(text: str, *, other_scripts: bool = True) -> str | None:
    """``text`` in lower-case ASCII, each other character replaced by its stand-in: a pattern
    for which :func:`takes_stand_ins` holds, searched case-insensitively, matches ``text``
    exactly where its lower-case form matches this. None where a character has no stand-in
    (a digit of another script, or a NUL in the text), and, with ``other_scripts=False``
    (patterns that do not take stand-ins), for any text that is not ASCII."""
    if text.isascii():
        return None if _NO_STAND_IN in text else text.lower()
    if not other_scripts:
        return None
    stood_in = text.translate(_STAND_IN_TABLE)
    return None if _NO_STAND_IN in stood_in else stood_in.lower()


class _UnclosedClass(ValueError):
    pass


def _units(expression: str) -> Iterator[tuple[int, str, bool]]:
    """Each unit of ``expression`` (a character, or a backslash with the character after it)
    with its index, and whether it lies in a character class (the brackets that open and
    close one included). Raises :class:`_UnclosedClass` for a class that never closes."""
    in_class = False
    class_start = 0
    index = 0
    while index < len(expression):
        ch = expression[index]
        if ch == "\\":
            yield index, expression[index : index + 2], in_class
            index += 2
            continue
        if in_class:
            first = class_start + 1 + expression.startswith("^", class_start + 1)
            yield index, ch, True
            if ch == "]" and index > first:
                in_class = False
        elif ch == "[":
            in_class, class_start = True, index
            yield index, ch, True
        else:
            yield index, ch, False
        index += 1
    if in_class:
        raise _UnclosedClass(expression)


def takes_stand_ins(expression: str) -> bool:
    """Whether ``expression`` (Python syntax) is written in ASCII and never names a stand-in:
    not as a character, not in a range, not through an escape by code (``\\x1f``)."""
    if not expression.isascii() or any(s in expression for s in _STAND_INS):
        return False
    if re.search(r"\\[xuUN0-7]", expression):
        return False
    codes = [ord(s) for s in _STAND_INS]
    try:
        for index, unit, in_class in _units(expression):
            if in_class and unit == "-" and expression[index + 1 : index + 2] not in ("", "]"):
                # A range (conservatively: an escaped end is taken as its backslash).
                low, high = ord(expression[index - 1]), ord(expression[index + 1])
                if any(low <= code <= high for code in codes):
                    return False
    except _UnclosedClass:
        return False
    return True


def re2_form(expression: str) -> str | None:
    """``expression`` (Python syntax, no flags) as an RE2 expression that matches the same
    ASCII texts, or None where it cannot be written with the same meaning here: an escape
    other than a class, a word boundary or quoted punctuation, an anchor (Python's ``$`` also
    matches before a final newline), ``{,n}`` (a literal in RE2), an inline group or flag,
    a non-ASCII character, or ``\\S`` inside a class. RE2 itself refuses what it cannot run
    (look-arounds, possessive quantifiers); :class:`PatternSet` keeps those in Python."""
    if "(?" in expression.replace("(?:", "") or not expression.isascii():
        return None
    out: list[str] = []
    try:
        for index, unit, in_class in _units(expression):
            if len(unit) == 2:  # an escape
                escaped = unit[1]
                if escaped == "s":
                    out.append(_PYTHON_SPACE if in_class else f"[{_PYTHON_SPACE}]")
                elif escaped == "S" and not in_class:
                    out.append(f"[^{_PYTHON_SPACE}]")
                elif escaped in _SHARED_ESCAPES or not escaped.isalnum():
                    out.append(unit)
                else:
                    return None
            elif unit == "\\" or (  # a backslash at the very end
                not in_class and (unit in "^$" or expression.startswith("{,", index))
            ):
                return None
            else:
                out.append(unit)
    except _UnclosedClass:
        return None
    return "".join(out)


_LOOKAROUNDS = ("(?=", "(?!", "(?<=", "(?<!")


def _group_end(expression: str, start: int) -> int | None:
    """The index just after the group that opens at ``start``, or None if it never closes."""
    depth = 0
    for index, unit, in_class in _units(expression[start:]):
        if not in_class and unit == "(":
            depth += 1
        elif not in_class and unit == ")":
            depth -= 1
            if depth == 0:
                return start + index + 1
    return None


def superset_form(expression: str) -> str | None:
    """``expression`` without its look-arounds, and with possessive quantifiers made
    greedy: a pattern that matches wherever ``expression`` matches (an assertion only ever
    rules a match out, and backtracking only ever finds more), so where it does not match,
    neither does ``expression``. None where it cannot be worked out."""
    out: list[str] = []
    after_quantifier = False
    skip_to = 0  # the end of a look-around being left out
    try:
        for index, unit, in_class in _units(expression):
            if index < skip_to:
                continue
            if in_class or len(unit) == 2:
                out.append(unit)
                after_quantifier = False
                continue
            if unit == "(" and expression.startswith(_LOOKAROUNDS, index):
                end = _group_end(expression, index)
                if end is None:
                    return None
                skip_to = end
                after_quantifier = False
                continue
            if unit == "+" and after_quantifier:
                after_quantifier = False  # possessive: the greedy quantifier before it stays
                continue
            if unit == "?" and after_quantifier:
                after_quantifier = False  # lazy
            else:
                after_quantifier = unit in "*+?}" and not (unit == "?" and out[-1:] == ["("])
            out.append(unit)
    except _UnclosedClass:
        return None
    return "".join(out)


class PatternSet:
    """Patterns (Python syntax, no flags) searched together in lower-case ASCII texts.

    :meth:`matching` answers as ``{n for n, p in enumerate(patterns) if p.search(text)}``
    would with Python's ``re``; ``None`` entries never match (a caller's placeholder for a
    pattern it searches another way). A pattern RE2 cannot run is searched with ``re``, and
    only where its :func:`superset_form`, which the set searches, matches."""

    def __init__(self, expressions: Sequence[str | None]) -> None:
        self._python: list[tuple[int, re.Pattern[str]]] = []  # searched in every text
        # Per index of the set: the pattern's number, and the Python pattern that must confirm
        # a match of its superset form (None where the set searches the pattern itself).
        self._owners: list[tuple[int, re.Pattern[str] | None]] = []
        self._set: Any = None
        self.takes_stand_ins = all(e is None or takes_stand_ins(e) for e in expressions)
        pattern_set = None
        if re2 is not None:
            options = re2.Options()
            options.max_mem = SET_MEMORY
            options.log_errors = False
            pattern_set = re2.Set.SearchSet(options)
        for number, expression in enumerate(expressions):
            if expression is None:
                continue
            if _added(pattern_set, re2_form(expression)):
                self._owners.append((number, None))
                continue
            python = re.compile(expression)
            superset = superset_form(expression)
            if superset is not None and _added(pattern_set, re2_form(superset)):
                self._owners.append((number, python))
            else:
                self._python.append((number, python))
        if pattern_set is None or not self._owners:
            return
        try:
            pattern_set.Compile()
        except re2.error:
            # Too many patterns for the budget: Python's re searches every one.
            logger.warning("pattern set of %d patterns over budget; using re", len(self._owners))
            self._owners = []
            self._python = [
                (number, re.compile(expression))
                for number, expression in enumerate(expressions)
                if expression is not None
            ]
        else:
            self._set = pattern_set

    @property
    def compiled(self) -> bool:
        """Whether RE2 searches any of the patterns (False: Python's re searches them all)."""
        return self._set is not None

    @property
    def in_python(self) -> frozenset[int]:
        """The patterns searched with Python's re (after their superset form, or always)."""
        return frozenset(number for number, _ in self._python) | frozenset(
            number for number, confirm in self._owners if confirm is not None
        )

    def matching(self, text: str, skip: frozenset[int] | set[int] = frozenset()) -> set[int]:
        """The patterns that occur in ``text`` (lower-case ASCII); those in ``skip`` are not
        searched with Python's re (the caller already knows they match)."""
        found: set[int] = set()
        if self._set is not None:
            for member in self._set.Match(text) or ():
                number, confirm = self._owners[member]
                if confirm is None or (number not in skip and confirm.search(text)):
                    found.add(number)
        for number, pattern in self._python:
            if number not in skip and number not in found and pattern.search(text):
                found.add(number)
        return found

    def any_match(self, text: str) -> bool:
        """Whether any pattern occurs in ``text`` (lower-case ASCII)."""
        if self._set is not None:
            for member in self._set.Match(text) or ():
                _, confirm = self._owners[member]
                if confirm is None or confirm.search(text):
                    return True
        return any(pattern.search(text) for _, pattern in self._python)


def _added(pattern_set: Any, member: str | None) -> bool:
    """Whether ``member`` (RE2 syntax) went into ``pattern_set``; RE2 refuses what it cannot
    run, and a refused member takes no index."""
    if pattern_set is None or member is None:
        return False
    try:
        pattern_set.Add(member)
    except re2.error:
        return False
    return True


def _re2_compiled(expression: str) -> Any:
    """``expression`` (RE2 syntax) compiled, or None where RE2 refuses it."""
    options = re2.Options()
    options.max_mem = SET_MEMORY
    options.log_errors = False
    try:
        return re2.compile(expression, options)
    except re2.error:
        return None


def single_pattern(expression: str) -> Any:
    """``expression`` (Python syntax, no flags) compiled by RE2 for lower-case ASCII texts,
    with the same answers as Python's ``re.search``, or None where :func:`re2_form` or RE2
    refuses it. A single RE2 pattern falls back to a slower automaton rather than fail, so
    its budget (SET_MEMORY) bounds only the memory it takes."""
    if re2 is None:
        return None
    translated = re2_form(expression)
    return _re2_compiled(translated) if translated is not None else None
