"""Rendering chat messages for any tokenizer: its own chat template when it has one, else a plain one.

The plain template (for base models shipped without a chat template, e.g. GPT-2) is::

    User: {user content}\\n
    Assistant: {assistant content}{eos}\\n

with ``System: ...`` lines for system turns, and the generation prompt ``Assistant:`` (no trailing space, so
that the model's first token carries its own spacing). Reasoning, when present, stays inside the assistant
content as ``<think>...</think>`` (see :mod:`reasonsift.data.render`).
"""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase

_ROLE_NAMES = {"system": "System", "user": "User", "assistant": "Assistant"}


def has_chat_template(tokenizer: PreTrainedTokenizerBase) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def render_plain(
    messages: Sequence[dict[str, str]], *, add_generation_prompt: bool, eos_token: str | None = None
) -> str:
    """The documented plain template (module docstring). Unknown roles raise ``ValueError``."""
    parts = []
    for i, m in enumerate(messages):
        role = m.get("role")
        if role not in _ROLE_NAMES:
            raise ValueError(f"messages[{i}].role: unknown {role!r}; expected system, user or assistant")
        content = m.get("content", "")
        if role == "assistant":
            reasoning = m.get("reasoning_content")
            if reasoning:
                content = f"<think>{reasoning}</think>{content}"
            content += eos_token or ""
        parts.append(f"{_ROLE_NAMES[role]}: {content}\n")
    if add_generation_prompt:
        parts.append("Assistant:")
    return "".join(parts)


def render(
    tokenizer: PreTrainedTokenizerBase,
    messages: Sequence[dict[str, str]],
    *,
    add_generation_prompt: bool = False,
) -> str:
    """Render ``messages`` as text for ``tokenizer``; with ``add_generation_prompt`` the text ends where the
    assistant's reply begins."""
    if has_chat_template(tokenizer):
        return tokenizer.apply_chat_template(
            list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
        )
    return render_plain(messages, add_generation_prompt=add_generation_prompt, eos_token=tokenizer.eos_token)
