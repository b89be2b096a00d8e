"""Evaluation: greedy batched generation and exact-match accuracy on built-in tasks."""

from reasonsift.evaluate.accuracy import (
    EvalResult,
    TaskScore,
    evaluate_accuracy,
    final_answer,
    score_responses,
)
from reasonsift.evaluate.generate import greedy_generate

__all__ = [
    "EvalResult",
    "TaskScore",
    "evaluate_accuracy",
    "final_answer",
    "greedy_generate",
    "score_responses",
]
