"""The generation backend interface, in the spirit of lm-eval's model API: ``generate`` (with stop strings,
n samples per prompt, seeded sampling and s1 budget forcing) and ``loglikelihood`` of given continuations.

Backends are picked by name (:func:`get_backend`): ``"hf"`` (any ``transformers`` causal LM, CPU or GPU) and
``"vllm"`` (behind ``pip install reasonsift[vllm]``, GPU only).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

FINISH_REASONS = ("stop", "eos", "length")

# s1 (Muennighoff et al. 2025, "s1: Simple test-time scaling", arXiv 2501.19393, section 3.1): budget forcing
# suppresses the end-of-thinking delimiter and appends "Wait" to make the model keep reasoning.
WAIT = "Wait"


@dataclass
class SamplingParams:
    """How to sample. ``temperature == 0`` is greedy; then ``n > 1`` gives ``n`` identical greedy samples
    (allowed: the eval stage asks for ``n`` samples whatever the temperature)."""

    n: int = 1  # samples per prompt
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0  # nucleus sampling (Holtzman et al. 2020); 1.0 keeps the whole distribution
    max_new_tokens: int = 256  # every generated token counts, forced ones included
    stop: list[str] = field(default_factory=list)  # the completion is cut before the first stop string
    seed: int = 0
    # s1 budget forcing, counted in thinking tokens (tokens between <think> and </think>, forced ones included)
    min_thinking_tokens: int | None = None  # </think> before this many is replaced by "Wait"
    max_thinking_tokens: int | None = None  # at this many, "</think>" is forced and the answer follows

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        self.stop = list(self.stop)
        if self.n < 1:
            raise ValueError(f"n: expected >= 1, got {self.n}")
        if not self.temperature >= 0:
            raise ValueError(f"temperature: expected >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p: expected 0 < top_p <= 1, got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens: expected >= 1, got {self.max_new_tokens}")
        if any(not isinstance(s, str) or not s for s in self.stop):
            raise ValueError(f"stop: expected non-empty strings, got {self.stop!r}")
        for name in ("min_thinking_tokens", "max_thinking_tokens"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name}: expected >= 0 or None, got {v}")
        lo, hi = self.min_thinking_tokens, self.max_thinking_tokens
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"min_thinking_tokens: {lo} is more than max_thinking_tokens {hi}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def budget_forcing(self) -> bool:
        return self.min_thinking_tokens is not None or self.max_thinking_tokens is not None


@dataclass
class Generation:
    text: str  # the completion (special tokens removed, cut before a stop string)
    n_tokens: int  # generated tokens, forced ones and the final EOS / stop-completing token included
    finish_reason: str  # "stop" (stop string) | "eos" | "length"
    n_forced: int = 0  # budget forcing interventions ("Wait" insertions + forced </think>)


ProgressFn = Callable[[int, int], None]


class Backend(ABC):
    name: str

    @abstractmethod
    def generate(
        self, prompts: list[str], params: SamplingParams, on_progress: ProgressFn | None = None
    ) -> list[list[Generation]]:
        """``prompts`` are fully rendered text (chat template applied, generation prompt included); returns
        ``[prompt][sample]`` in input order. ``on_progress(n_completions, n_tokens)`` is called as work is
        done with the completions finished and the tokens generated *since the last call* (increments, like
        :meth:`reasonsift.profile.scoring.Scorer.score`'s ``on_batch``)."""

    @abstractmethod
    def loglikelihood(self, requests: list[tuple[str, str]]) -> list[float]:
        """``sum log p(continuation | context)`` per ``(context, continuation)`` (lm-eval's loglikelihood);
        the two parts are tokenized apart (no special tokens) and concatenated."""


BACKENDS = ("hf", "vllm")


def get_backend(name: str, model, tokenizer=None, **kw) -> Backend:
    """``"hf"``: ``model`` and ``tokenizer`` are a loaded ``transformers`` model and tokenizer (kw: batch_size,
    device). ``"vllm"``: ``model`` is a model directory / Hugging Face id or a ``vllm.LLM`` (kw go to
    ``vllm.LLM``)."""
    if name == "hf":
        from reasonsift.evaluate.backends.hf import HFBackend

        if tokenizer is None:
            raise ValueError("tokenizer: the hf backend needs the model's tokenizer")
        return HFBackend(model, tokenizer, **kw)
    if name == "vllm":
        from reasonsift.evaluate.backends.vllm import VLLMBackend

        return VLLMBackend(model, tokenizer, **kw)
    raise ValueError(f"backend: unknown {name!r}; expected one of {', '.join(BACKENDS)}")
