"""The one record type every stage reads and writes."""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass, field
from typing import Any

from reasonsift.data.segment import Segmenter, get_segmenter

FORMATS = ("free_form", "multiple_choice")
LETTERS = string.ascii_uppercase
_THINK_TAG = re.compile(r"</?think>")

# Column order used by every writer; later stages add columns, never rewrite these.
FIELDS = ("id", "question", "trace", "answer", "choices", "format", "domain", "source", "meta")


@dataclass
class Example:
    """A reasoning example.

    ``answer`` of a ``multiple_choice`` example is the letter of the correct choice (``"A"``, ``"B"``, ...);
    ``source`` records provenance (dataset name + index, or path + line); ``meta`` is free.
    """

    id: str
    question: str
    answer: str
    trace: str = ""
    choices: list[str] | None = None
    format: str = "free_form"
    domain: str = ""
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def steps(self, segmenter: str | Segmenter = "auto") -> list[str]:
        """The trace's steps, by the named (or given) segmenter."""
        return get_segmenter(segmenter)(self.trace)

    def answer_index(self) -> int | None:
        """Index of the correct choice for a multiple-choice example, else None."""
        if self.format != "multiple_choice" or not self.choices:
            return None
        return LETTERS.index(self.answer)

    def answer_text(self) -> str:
        """The answer as text: the chosen option's text for multiple choice, else ``answer``."""
        i = self.answer_index()
        return self.answer if i is None else self.choices[i]  # type: ignore[index]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Example:
        return cls(**{k: d[k] for k in FIELDS if k in d})

    def problems(self) -> list[tuple[str, str]]:
        """Validation problems as ``(field, message)`` pairs; empty when the record is valid."""
        return validate_fields(self.to_dict())


def validate_fields(d: dict[str, Any]) -> list[tuple[str, str]]:
    """Check a record dict against the Example schema. Returns ``(field, message)`` pairs.

    Shared by :meth:`Example.problems` and the readers so that both give identical messages.
    """
    out: list[tuple[str, str]] = []
    for name in ("id", "question", "answer"):
        if name not in d or d[name] is None:
            out.append((name, "missing required field"))
    for name in ("id", "question", "trace", "answer", "format", "domain", "source"):
        v = d.get(name)
        if v is not None and not isinstance(v, str):
            out.append((name, f"expected a string, got {type(v).__name__}"))
    if out:
        return out
    if not d["id"].strip():
        out.append(("id", "empty id"))
    if not d["question"].strip():
        out.append(("question", "empty question"))
    if not d["answer"].strip():
        out.append(("answer", "empty answer"))
    fmt = d.get("format") or "free_form"
    if fmt not in FORMATS:
        out.append(("format", f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}"))
    choices = d.get("choices")
    if choices is not None and (
        not isinstance(choices, list | tuple) or not all(isinstance(c, str) for c in choices)
    ):
        out.append(("choices", f"expected a list of strings, got {type(choices).__name__}"))
        return out  # the multiple-choice checks below would only repeat this problem
    if fmt == "multiple_choice":
        if not choices or len(choices) < 2:
            out.append(("choices", "multiple_choice needs at least 2 choices"))
        elif len(choices) > len(LETTERS):
            out.append(("choices", f"at most {len(LETTERS)} choices"))
        else:
            letters = LETTERS[: len(choices)]
            if d["answer"] not in letters:
                out.append(
                    (
                        "answer",
                        f"answer {d['answer']!r} is not among the choices (expected a letter {letters[0]}-{letters[-1]})",
                    )
                )
    meta = d.get("meta")
    if meta is not None and not isinstance(meta, dict):
        out.append(("meta", f"expected an object, got {type(meta).__name__}"))
    trace = d.get("trace") or ""
    if isinstance(trace, str) and not think_tags_balanced(trace):
        out.append(("trace", "unbalanced <think> tags"))
    # Exporters write <think>trace</think>answer after the question: a tag in either would move text
    # between trace and answer on re-import, so the tool's own exports would fail its validation.
    for name in ("question", "answer"):
        if _THINK_TAG.search(d[name]):
            out.append((name, "contains a <think> tag; only the trace may hold reasoning (move it to trace)"))
    bad_fields: set[str] = set()
    for name, value in _strings(d):
        if name not in bad_fields and (bad := unencodable(value)) is not None:
            bad_fields.add(name)  # one problem per field is enough to find it
            out.append((name, bad))
    return out


def _strings(d: dict[str, Any]) -> list[tuple[str, str]]:
    """``(field, text)`` for every string of the record, meta keys and nested values included."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [(k, d.get(k)) for k in FIELDS]
    while stack:
        name, v = stack.pop()
        if isinstance(v, str):
            out.append((name, v))
        elif isinstance(v, dict):
            for k, x in v.items():
                sub = f"{name}.{k}" if name == "meta" else name  # meta: name the key (a leftover column)
                stack.append((sub, x))
                if isinstance(k, str):
                    out.append((sub, k))
        elif isinstance(v, list | tuple):
            stack += [(name, x) for x in v]
    return sorted(out, key=lambda t: FIELDS.index(t[0].split(".")[0]))


def unencodable(text: str) -> str | None:
    """Why ``text`` cannot be written as UTF-8 (a lone surrogate such as ``\\ud800``), or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return (
            f"lone surrogate \\u{ord(text[e.start]):04x} at character {e.start + 1} is not valid Unicode "
            "and cannot be written as UTF-8; fix or remove it"
        )
    return None


def think_tags_balanced(text: str) -> bool:
    """True when ``<think>``/``</think>`` tags nest properly (each opened tag is closed, none closed unopened)."""
    depth = 0
    for m in _THINK_TAG.finditer(text):
        depth += 1 if m.group() == "<think>" else -1
        if depth < 0:
            return False
    return depth == 0
