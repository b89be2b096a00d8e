"""Render examples the way they are trained and find the token spans to score.

The question is the user turn and ``<think>trace</think>answer`` the assistant turn
(:func:`reasonsift.data.render.to_messages`), through the chat template (or a ``--template`` file, or raw
``question\\n`` + completion with ``--no-template``). The scored tokens start where the prompt rendered with
``add_generation_prompt=True`` ends, which must be a *token* prefix of the full rendering; otherwise the
template's generation prompt does not match how it renders the assistant turn and scores would be wrong.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from reasonsift.data.example import Example
from reasonsift.data.render import THINK_CLOSE, THINK_OPEN, completion_text, prompt_text
from reasonsift.profile.schema import ANSWER, OTHER, TRACE  # noqa: F401 (segment codes, re-exported)

# r-IFD's PPL(Q|A) prompt. Ours, written in the spirit of Selective Reflection-Tuning (arXiv 2402.10110; the
# paper's exact wording is not reproduced); the response is inserted at {response}.
REVERSE_PROMPT = (
    "Below is a response written by an AI assistant. Guess the instruction (the question) it answers.\n\n"
    "Response:\n{response}"
)


@dataclass
class Rendered:
    """One rendered sequence. Per-position lists have length ``len(input_ids)``."""

    input_ids: list[int]
    score_start: int  # first scored position (>= 1: the token before it predicts it)
    segment: list[int]  # TRACE / ANSWER / OTHER per position (prompt positions are OTHER)
    step: list[int]  # step index per position, -1 outside the trace
    in_target: list[bool]  # positions inside the located target text (the completion, or the question)

    def __len__(self) -> int:
        return len(self.input_ids)

    def truncate_left(self, max_length: int) -> int:
        """Keep the last ``max_length`` tokens; returns how many were dropped from the left."""
        cut = max(0, len(self.input_ids) - max_length)
        if cut:
            for name in ("input_ids", "segment", "step", "in_target"):
                setattr(self, name, getattr(self, name)[cut:])
            self.score_start = max(1, self.score_start - cut)
        return cut


def offsets_by_decode(tokenizer, ids: list[int]) -> list[tuple[int, int]]:
    """Character spans of each token by decoding growing prefixes (for tokenizers without offset mapping)."""
    out, prev = [], 0
    for i in range(len(ids)):
        n = len(tokenizer.decode(ids[: i + 1], skip_special_tokens=False, clean_up_tokenization_spaces=False))
        out.append((prev, max(prev, n)))
        prev = max(prev, n)
    return out


def check_template(text: str, path: str = "template") -> None:
    """Compile a chat template as transformers does; a syntax error is ``path:line: template: message``."""
    import jinja2
    from transformers.utils.chat_template_utils import _compile_jinja_template

    try:
        _compile_jinja_template(text)
    except jinja2.TemplateSyntaxError as e:
        raise ValueError(f"{path}:{e.lineno}: template: {e.message}") from None


class Renderer:
    """Turns (user text, assistant text) into token ids with the scored span and character-level labels."""

    def __init__(
        self,
        tokenizer,
        template: str | None = None,
        no_template: bool = False,
        template_path: str = "template",
    ):
        if template is not None and not no_template:
            check_template(template, template_path)  # before any example: a syntax error is the user's
        self.tok = tokenizer
        self.template = template
        self.no_template = no_template
        self.fast = bool(getattr(tokenizer, "is_fast", False))

    # -- text ------------------------------------------------------------------------------------
    def _texts(self, user: str, assistant: str) -> tuple[str, str]:
        if self.no_template:
            return f"{user}\n", f"{user}\n{assistant}"
        msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        if self.template is not None or getattr(self.tok, "chat_template", None):
            kw = {"chat_template": self.template} if self.template is not None else {}
            full = self.tok.apply_chat_template(msgs, tokenize=False, **kw)
            prompt = self.tok.apply_chat_template(msgs[:1], tokenize=False, add_generation_prompt=True, **kw)
            return prompt, full
        from reasonsift.models.template import render  # the shared plain template for template-less models

        return render(self.tok, msgs[:1], add_generation_prompt=True), render(self.tok, msgs)

    def _encode(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        # Chat templates write their own BOS into the text; raw text gets the tokenizer's special tokens.
        special = self.no_template
        if self.fast:
            enc = self.tok(text, add_special_tokens=special, return_offsets_mapping=True)
            return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
        ids = list(self.tok(text, add_special_tokens=special)["input_ids"])
        return ids, offsets_by_decode(self.tok, ids)

    def plain(self, text: str, span: tuple[int, int] | None = None) -> tuple[list[int], list[int], bool]:
        """``text`` alone, with no template (Cherry LLM's s(A); r-IFD's PPL(Q)), a BOS first when the tokenizer
        has one. Returns the ids, the scorable positions (``>= 1``) of the tokens whose first character lies in
        ``span`` (default: all of ``text``), and whether a token in ``span`` sat at position 0 and so could not
        be scored (no BOS; callers then drop that token from the conditional score as well).
        """
        lo, hi = span if span is not None else (0, len(text))
        if self.fast:
            enc = self.tok(text, add_special_tokens=False, return_offsets_mapping=True)
            ids, offs = list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]
        else:
            ids = list(self.tok(text, add_special_tokens=False)["input_ids"])
            offs = offsets_by_decode(self.tok, ids)
        bos = getattr(self.tok, "bos_token_id", None)
        shift = 1 if bos is not None else 0
        if bos is not None:
            ids = [bos, *ids]
        inside = [i + shift for i, (s, e) in enumerate(offs) if e > s and lo <= s < hi]
        return ids, [p for p in inside if p >= 1], bool(inside) and inside[0] == 0

    # -- sequences -------------------------------------------------------------------------------
    def render(
        self, name: str, user: str, assistant: str, trace: str = "", answer: str = "", steps=()
    ) -> Rendered:
        """Render one exchange. ``trace``/``answer`` (substrings of ``assistant``) label positions TRACE/ANSWER;
        ``steps`` (substrings of ``trace``, in order) give step indices; ``in_target`` marks the assistant text.
        """
        prompt, full = self._texts(user, assistant)
        ids, offsets = self._encode(full)
        p_ids, _ = self._encode(prompt)
        if len(p_ids) >= len(ids) or ids[: len(p_ids)] != p_ids:
            raise ValueError(
                f"example {name!r}: the prompt rendered with add_generation_prompt=True is not a token prefix "
                "of the full rendering, so the assistant tokens cannot be located; the chat template renders "
                "the assistant turn differently from its generation prompt. Use --template FILE or --no-template."
            )
        start = max(1, len(p_ids))
        base = len(prompt) if full.startswith(prompt) else 0
        spans = _locate(full, base, [trace, answer] if trace else [answer])
        if spans is None:
            raise ValueError(
                f"example {name!r}: the chat template rewrote the assistant turn (its text is not found verbatim "
                "in the rendering); use --template FILE or --no-template."
            )
        t_span = spans[0] if trace else None
        a_span = spans[-1]
        asst = full.find(assistant, base)
        target = (asst, asst + len(assistant)) if asst >= 0 else (base, a_span[1])
        step_starts = _step_starts(trace, steps, t_span[0]) if t_span else []
        segment, step, in_target = [], [], []
        for i, (s, e) in enumerate(offsets):
            seg, st = OTHER, -1
            if i >= start and e > s:
                if t_span and t_span[0] <= s < t_span[1]:
                    seg = TRACE
                    st = max(0, bisect.bisect_right(step_starts, s) - 1) if step_starts else -1
                elif a_span[0] <= s < a_span[1]:
                    seg = ANSWER
            segment.append(seg)
            step.append(st)
            in_target.append(i >= start and e > s and target[0] <= s < target[1])
        return Rendered(ids, start, segment, step, in_target)

    def example(self, ex: Example, segmenter: str = "auto") -> Rendered:
        """The training rendering of ``ex``."""
        return self.render(
            ex.id,
            prompt_text(ex),
            completion_text(ex),
            ex.trace,
            ex.answer,
            ex.steps(segmenter) if ex.trace else (),
        )

    def prefix(self, ex: Example, trace_prefix: str) -> Rendered:
        """``ex`` with the trace cut to ``trace_prefix`` (information gain): ``<think>prefix</think>answer``."""
        comp = f"{THINK_OPEN}{trace_prefix}{THINK_CLOSE}{ex.answer}"
        return self.render(ex.id, prompt_text(ex), comp, trace_prefix, ex.answer)

    def reverse(self, ex: Example) -> Rendered:
        """r-IFD's PPL(Q|A): the guess-the-instruction prompt with the response; the question is the target."""
        q = prompt_text(ex)
        return self.render(ex.id, REVERSE_PROMPT.format(response=completion_text(ex)), q, "", q)


def _locate(text: str, start: int, pieces: list[str]) -> list[tuple[int, int]] | None:
    """Find ``pieces`` in order in ``text`` from ``start``; char spans, or None if one is missing."""
    out, pos = [], start
    for p in pieces:
        i = text.find(p, pos)
        if i < 0:
            return None
        out.append((i, i + len(p)))
        pos = i + len(p)
    return out


def _step_starts(trace: str, steps, offset: int) -> list[int]:
    """Absolute char starts of each step (steps are stripped substrings of the trace, in order)."""
    starts, pos = [], 0
    for s in steps:
        i = trace.find(s, pos)
        if i < 0:
            break
        starts.append(offset + i)
        pos = i + len(s)
    return starts


def step_ends(trace: str, steps) -> list[int]:
    """Char end in ``trace`` of each step: the trace prefix that contains steps ``1..i`` is ``trace[:ends[i-1]]``."""
    ends, pos = [], 0
    for s in steps:
        i = trace.find(s, pos)
        if i < 0:
            raise ValueError(f"step {s!r} is not a substring of the trace")
        pos = i + len(s)
        ends.append(pos)
    return ends
