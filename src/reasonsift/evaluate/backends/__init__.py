"""Generation backends: one small interface (:class:`Backend`), a Hugging Face and a vLLM implementation."""

from reasonsift.evaluate.backends.base import (
    BACKENDS,
    Backend,
    Generation,
    SamplingParams,
    get_backend,
)

__all__ = ["BACKENDS", "Backend", "Generation", "SamplingParams", "get_backend"]
