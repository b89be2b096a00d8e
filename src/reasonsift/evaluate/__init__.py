"""Evaluation: greedy batched generation and verified accuracy (with outcome counts) on tasks."""

from reasonsift.evaluate.accuracy import (
    EvalResult,
    TaskScore,
    evaluate_accuracy,
    final_answer,
    verify_responses,
)
from reasonsift.evaluate.generate import greedy_generate

__all__ = [
    "EvalResult",
    "TaskScore",
    "evaluate_accuracy",
    "final_answer",
    "greedy_generate",
    "verify_responses",
]
