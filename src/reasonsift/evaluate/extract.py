r"""Final-answer extraction from a model's completion, for verifiers that compare an answer string.

:func:`extract_answer` first takes the *answer part* of the completion (as :func:`final_answer` does: the text
after the last ``</think>``; ``None`` when a ``<think>`` is never closed, since a truncated reply has no
answer; the whole text when there are no think tags), then tries these extractors in order; the first that
finds something wins:

=====  ============================  ===================================================================
order  extractor                     what it returns
=====  ============================  ===================================================================
1      :func:`from_answer_tags`      the content of the last ``<answer>...</answer>`` (an unclosed last
                                     ``<answer>`` takes the rest of the text; a box inside: its content)
2      :func:`from_boxed`            the content of the last ``\boxed{...}`` (or ``\fbox{...}``) whose braces
                                     balance; nested braces (``\boxed{\frac{1}{2}}``) are kept
3      :func:`from_hashes`           the rest of the line after the last ``#### `` (GSM8K's answer line)
4      :func:`from_answer_phrase`    the rest of the line after the last ``Answer:`` / ``Final answer:`` /
                                     ``The (final) answer is``, without a trailing period
5      :func:`from_think_close`      the whole answer part, when a ``</think>`` closed the thinking (the
                                     convention of the built-in tasks: ``<think>trace</think>answer``)
6      :func:`from_last_number`      the last number (``-1,234.5`` -> ``-1234.5``, ``3/4``)
7      (whole text)                  the answer part itself, when it is one short line (<= 100 chars)
=====  ============================  ===================================================================

Explicit markers (1-4) outrank the position after ``</think>`` so that ``</think>So x = \boxed{4}.`` gives
``4``; the last number (6) is a guess, used only when the reply has no think tags and no marker. Every
extractor runs in time linear in the text (tested on 1,000,000-character inputs): matching braces are found in
one pass and the regular expressions have no nested quantifiers.
"""

from __future__ import annotations

import re

from reasonsift.data.render import THINK_CLOSE, THINK_OPEN

_ANSWER_OPEN, _ANSWER_CLOSE = "<answer>", "</answer>"
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_HASHES = re.compile(r"####")
_PHRASE = re.compile(
    r"answer[ \t]*[:：]|the (?:final )?answer is:?", re.I
)  # "Final answer:" ends in "answer:"
_NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")
_MAX_LINE = 100


def answer_part(completion: str) -> str | None:
    """The text after the last ``</think>``; ``None`` if a ``<think>`` was never closed; else the whole text."""
    if THINK_CLOSE in completion:
        return completion.rsplit(THINK_CLOSE, 1)[1]
    if THINK_OPEN in completion:
        return None
    return completion


def _clean(s: str) -> str | None:
    s = s.strip().strip("$").strip()
    s = s[:-1].rstrip() if s.endswith(".") else s
    return s or None


def from_answer_tags(text: str) -> str | None:
    """Content of the last ``<answer>...</answer>`` (an unclosed last ``<answer>``: the rest of the text).

    >>> from_answer_tags("<answer>1</answer> then <answer> 2 </answer>")
    '2'
    """
    low = text.lower()  # str.find, not a lazy regex: many unclosed tags stay linear
    i = low.rfind(_ANSWER_OPEN)
    if i < 0:
        return None
    j = low.find(_ANSWER_CLOSE, i)
    return _clean(text[i + len(_ANSWER_OPEN) : j if j >= 0 else len(text)])


def _matching_braces(text: str) -> dict[int, int]:
    """``{open index: close index}`` for every balanced brace pair, in one pass (a stack of open indices)."""
    out: dict[int, int] = {}
    stack: list[int] = []
    for m in re.finditer(r"[{}]", text):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            out[stack.pop()] = m.start()
    return out


def from_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` whose braces balance (an unclosed one is skipped).

    >>> from_boxed(r"\boxed{1} and \boxed{\frac{1}{2}} and \boxed{3")
    '\\frac{1}{2}'
    """
    starts = [m.end() - 1 for m in _BOXED.finditer(text)]  # index of each box's "{"
    if not starts:
        return None
    pairs = _matching_braces(text)
    for s in reversed(starts):
        if s in pairs:
            return _clean(text[s + 1 : pairs[s]])
    return None


def _rest_of_line_after_last(pattern: re.Pattern[str], text: str) -> str | None:
    last = None
    for m in pattern.finditer(text):
        last = m
    if last is None:
        return None
    end = text.find("\n", last.end())
    return _clean(text[last.end() : end if end >= 0 else len(text)])


def from_hashes(text: str) -> str | None:
    """The rest of the line after the last ``####``.

    >>> from_hashes("so 3+4=7\\n#### 7")
    '7'
    """
    return _rest_of_line_after_last(_HASHES, text)


def from_answer_phrase(text: str) -> str | None:
    """The rest of the line after the last ``Answer:`` or ``The answer is``.

    >>> from_answer_phrase("The answer is 12. Answer: 13.")
    '13'
    """
    return _rest_of_line_after_last(_PHRASE, text)


def from_think_close(completion: str) -> str | None:
    """The answer part when a ``</think>`` closed the thinking, else ``None``.

    >>> from_think_close("<think>2+3=5</think> 5 ")
    '5'
    """
    if THINK_CLOSE not in completion:
        return None
    return completion.rsplit(THINK_CLOSE, 1)[1].strip() or None


def from_last_number(text: str) -> str | None:
    """The last number, thousands separators removed.

    >>> from_last_number("3 apples and 1,250.5 pears")
    '1250.5'
    """
    last = None
    for m in _NUMBER.finditer(text):
        last = m
    return last.group().replace(",", "") if last else None


def extract_answer(completion: str) -> str | None:
    r"""The final answer of a completion by the documented order of extractors (module docstring); ``None``
    when there is none (empty, or a ``<think>`` never closed).

    >>> extract_answer(r"<think>1/2</think>So it is \boxed{\frac{1}{2}}.")
    '\\frac{1}{2}'
    >>> extract_answer("<think>2+3=5</think>5"), extract_answer("<think>2+3=5"), extract_answer("x is 4.")
    ('5', None, '4')
    """
    part = answer_part(completion)
    if part is None or not part.strip():
        return None
    tagged = from_answer_tags(part)
    if tagged is not None:
        return from_boxed(tagged) or tagged  # <answer>\boxed{3}</answer> -> 3
    for fn in (from_boxed, from_hashes, from_answer_phrase):
        got = fn(part)
        if got is not None:
            return got
    got = from_think_close(completion)
    if got is not None:
        return got
    got = from_last_number(part)
    if got is not None:
        return got
    line = part.strip()
    return line if "\n" not in line and len(line) <= _MAX_LINE else None


__all__ = [
    "answer_part",
    "extract_answer",
    "from_answer_phrase",
    "from_answer_tags",
    "from_boxed",
    "from_hashes",
    "from_last_number",
    "from_think_close",
]
