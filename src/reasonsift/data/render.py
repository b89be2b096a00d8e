"""How an Example becomes chat messages: the one rendering used by profiling, training and exporters.

The question (with lettered options for multiple choice) is the user turn; the assistant turn is
``<think>{trace}</think>{answer}`` (TRL's convention for reasoning), or just the answer when there is no trace.
"""

from __future__ import annotations

from reasonsift.data.example import LETTERS, Example

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def prompt_text(ex: Example) -> str:
    """The user turn: the question, then ``A) ...`` lines for multiple choice."""
    if ex.format == "multiple_choice" and ex.choices:
        opts = "\n".join(f"{LETTERS[i]}) {c}" for i, c in enumerate(ex.choices))
        return f"{ex.question}\n{opts}"
    return ex.question


def completion_text(ex: Example, trace: str | None = None) -> str:
    """The assistant turn: ``<think>trace</think>answer`` (``trace`` overrides the example's own)."""
    t = ex.trace if trace is None else trace
    return f"{THINK_OPEN}{t}{THINK_CLOSE}{ex.answer}" if t else ex.answer


def to_messages(ex: Example, trace: str | None = None) -> list[dict[str, str]]:
    return [
        {"role": "user", "content": prompt_text(ex)},
        {"role": "assistant", "content": completion_text(ex, trace)},
    ]
