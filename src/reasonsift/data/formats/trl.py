"""TRL datasets: conversational (``messages``) and prompt/completion; reasoning as ``<think>...</think>``.

The exporter writes ``messages`` from :func:`render.to_messages` plus the Example's other fields as extra
columns, so that importing the export gives back the same Examples.
"""

from __future__ import annotations

from typing import Any

from reasonsift.data.example import Example
from reasonsift.data.formats.base import (
    Context,
    FieldProblem,
    Importer,
    assistant_turn,
    check_messages,
    extra_fields,
    strip_options,
    user_turn,
)
from reasonsift.data.render import to_messages


def convert(rec: dict[str, Any], ctx: Context) -> tuple[dict[str, Any], set[str]]:
    d, used = extra_fields(rec, ctx)
    if "messages" in rec:
        msgs = check_messages(rec["messages"], "messages")
        if not msgs or msgs[-1]["role"] != "assistant":
            raise FieldProblem("messages", "expected the last turn to be the assistant's")
        user, system = user_turn(msgs[:-1], "messages")
        trace, answer = assistant_turn(msgs[-1], "messages")
        used.add("messages")
    elif "prompt" in rec and "completion" in rec:
        prompt, completion = rec["prompt"], rec["completion"]
        if isinstance(prompt, str):
            user, system = prompt, ""
        else:
            user, system = user_turn(check_messages(prompt, "prompt"), "prompt")
        if isinstance(completion, str):
            trace, answer = assistant_turn({"content": completion}, "completion")
        else:
            msgs = check_messages(completion, "completion")
            if len(msgs) != 1 or msgs[0]["role"] != "assistant":
                raise FieldProblem("completion", "expected one assistant message")
            trace, answer = assistant_turn(msgs[0], "completion")
        used |= {"prompt", "completion"}
    else:
        raise FieldProblem("messages", "missing required field (or prompt and completion)")
    d.update(question=strip_options(user, d.get("choices"), d.get("format")), trace=trace, answer=answer)
    if system:
        d["meta"] = {**(d.get("meta") or {}), "system": system}
    return d, used


def missing(columns: list[str]) -> str | None:
    if "messages" in columns or ("prompt" in columns and "completion" in columns):
        return None
    return "column 'messages' (or 'prompt' and 'completion')"


def export_row(ex: Example) -> dict[str, Any]:
    """One TRL conversational row; the other Example fields ride along as extra columns."""
    return {
        "messages": to_messages(ex),
        "id": ex.id,
        "choices": ex.choices,
        "format": ex.format,
        "domain": ex.domain,
        "source": ex.source,
        "meta": ex.meta,
    }


IMPORTER = Importer(
    "trl",
    "TRL conversational (messages) or prompt/completion, reasoning inside <think>...</think>",
    convert,
    missing,
)
