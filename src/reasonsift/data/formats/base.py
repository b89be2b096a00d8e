"""What every importer shares: the Importer record, per-record context, and chat/think helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reasonsift.data.example import Example
from reasonsift.data.render import THINK_OPEN, prompt_text

_THINK_TAG = re.compile(r"</?think>")
_LEADING_OPEN = re.compile(r"\s*<think>")


class FieldProblem(Exception):
    """A record that cannot be imported: raised by importers, reported as ``path:line: field: message``."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Context:
    """Where a record came from: builds default ids ``<stem>-<line>`` and sources ``<name>:<line>``."""

    name: str
    stem: str
    line: int

    def default_id(self) -> str:
        return f"{self.stem}-{self.line}"

    def default_source(self) -> str:
        return f"{self.name}:{self.line}"


# An importer turns one (field-mapped) record into an Example dict and names the columns it consumed;
# every other column is kept in ``meta`` so that nothing is silently dropped.
Convert = Callable[[dict[str, Any], Context], tuple[dict[str, Any], set[str]]]


@dataclass(frozen=True)
class Importer:
    name: str
    description: str
    convert: Convert
    # Returns what is missing for this format given a file's columns ("column 'prompt'"), or None if it fits.
    missing: Callable[[list[str]], str | None]


def need(rec: dict[str, Any], name: str) -> Any:
    """``rec[name]``, or a FieldProblem when the column is absent."""
    if name not in rec:
        raise FieldProblem(name, "missing required field")
    return rec[name]


def need_trace(rec: dict[str, Any], name: str) -> str:
    """``rec[name]`` as a non-empty trace: a format whose point is the trace must not import it empty."""
    v = need(rec, name)
    if v is None:
        raise FieldProblem(name, "trace is null; drop the record or fill in its trace")
    if isinstance(v, str) and not v.strip():
        raise FieldProblem(name, "empty trace; drop the record or fill in its trace")
    return v


def decode_json_object(value: Any, field: str) -> Any:
    """A dict stored as a JSON string (how Parquet files keep free-form ``meta``) back to a dict."""
    if not isinstance(value, str):
        return value
    try:
        out = json.loads(value)
    except json.JSONDecodeError as e:
        raise FieldProblem(field, f"expected an object or a JSON string of one: {e.msg}") from None
    if not isinstance(out, dict):
        raise FieldProblem(field, f"expected an object, got a JSON string of {type(out).__name__}")
    return out


def split_think(content: Any, field: str) -> tuple[str, str]:
    """Split an assistant turn ``<think>trace</think>answer`` into ``(trace, answer)``.

    No tags: the whole turn is the answer and the trace is empty. Tags must open the turn (after
    whitespace) and close once; anything else is reported as unbalanced rather than guessed at.
    """
    if not isinstance(content, str):
        raise FieldProblem(field, f"assistant content: expected a string, got {type(content).__name__}")
    if not _THINK_TAG.search(content):
        return "", content
    m = _LEADING_OPEN.match(content)
    if m is None:
        raise FieldProblem(field, "unbalanced <think> tags in the assistant turn")
    depth, start = 0, m.end() - len(THINK_OPEN)
    for t in _THINK_TAG.finditer(content, start):
        depth += 1 if t.group() == THINK_OPEN else -1
        if depth == 0:
            trace, answer = content[m.end() : t.start()], content[t.end() :]
            if _THINK_TAG.search(answer):
                raise FieldProblem(field, "unbalanced <think> tags in the assistant turn")
            return trace, answer
    raise FieldProblem(field, "unbalanced <think> tags in the assistant turn")


def check_messages(msgs: Any, field: str) -> list[dict[str, Any]]:
    """A list of ``{role, content}`` dicts, or a FieldProblem."""
    if not isinstance(msgs, list) or not all(
        isinstance(m, dict) and isinstance(m.get("role"), str) for m in msgs
    ):
        raise FieldProblem(field, "expected a list of {role, content} messages")
    return msgs


def user_turn(msgs: list[dict[str, Any]], field: str) -> tuple[str, str]:
    """``(user content, system content)`` of a prompt made of optional system turns and one user turn."""
    system = [m for m in msgs if m["role"] == "system"]
    rest = [m for m in msgs if m["role"] != "system"]
    if len(rest) != 1 or rest[0]["role"] != "user":
        roles = [m["role"] for m in msgs]
        raise FieldProblem(field, f"expected optional system turns then one user turn, got roles {roles}")
    content = rest[0].get("content")
    if not isinstance(content, str):
        raise FieldProblem(field, f"user content: expected a string, got {type(content).__name__}")
    return content, "\n".join(str(m.get("content", "")) for m in system)


def assistant_turn(msg: dict[str, Any], field: str) -> tuple[str, str]:
    """``(trace, answer)`` of one assistant message (``reasoning_content`` or ``<think>`` in content)."""
    reasoning = msg.get("reasoning_content")
    if reasoning:
        if not isinstance(reasoning, str):
            raise FieldProblem(field, "reasoning_content: expected a string")
        content = msg.get("content")
        if not isinstance(content, str):
            raise FieldProblem(field, f"assistant content: expected a string, got {type(content).__name__}")
        return reasoning, content
    return split_think(msg.get("content"), field)


def strip_options(user: str, choices: Any, fmt: Any) -> str:
    """Undo :func:`render.prompt_text`: remove the ``A) ...`` lines an exporter appended to the question."""
    if fmt != "multiple_choice" or not isinstance(choices, list) or not choices:
        return user
    if not all(isinstance(c, str) for c in choices) or len(choices) > 26:
        return user
    suffix = prompt_text(Example(id="", question="", answer="", choices=choices, format="multiple_choice"))
    return user[: -len(suffix)] if user.endswith(suffix) else user


# Example fields an exporter keeps as extra columns (TRL) or inside ``extra_info`` (verl).
EXTRA_FIELDS = ("id", "choices", "format", "domain", "source", "meta")


def extra_fields(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    """The Example's extra fields from a record's same-named columns, with default id and source.

    Formats without ids get ``<stem>-<line>``: deterministic, so re-importing a file gives the same ids.
    """
    d: dict[str, Any] = {k: rec[k] for k in EXTRA_FIELDS if k in rec}
    if "meta" in d:
        d["meta"] = decode_json_object(d["meta"], "meta")
    if d.get("id") is None:
        d["id"] = ctx.default_id()
    if "source" not in d:  # present but empty stays empty: an export of such an Example round-trips
        d["source"] = ctx.default_source()
    return d, {k for k in EXTRA_FIELDS if k in rec}


def has_columns(*names: str) -> Callable[[list[str]], str | None]:
    """A ``missing`` check requiring all of ``names``."""

    def missing(columns: list[str]) -> str | None:
        absent = [n for n in names if n not in columns]
        if not absent:
            return None
        return ("column " if len(absent) == 1 else "columns ") + ", ".join(repr(n) for n in absent)

    return missing
