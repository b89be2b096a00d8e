"""Evaluation: generation backends, verifiers, metrics, trace quality and the ``reasonsift eval`` stage.

Names are imported lazily: the Math-Verify worker processes import this package to unpickle their function,
and must not pay for torch and transformers (``accuracy`` imports them).
"""

from importlib import import_module

_LAZY = {
    "EvalResult": "accuracy",
    "TaskScore": "accuracy",
    "evaluate_accuracy": "accuracy",
    "final_answer": "accuracy",
    "verify_responses": "accuracy",
    "greedy_generate": "generate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f"reasonsift.evaluate.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'reasonsift.evaluate' has no attribute {name!r}")
