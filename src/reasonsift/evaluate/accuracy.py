"""Exact-match accuracy of greedy answers on built-in tasks, by task and split.

The model sees the question rendered with its chat template (plain template otherwise) and a generation
prompt; its final answer is the text after the last ``</think>`` (the whole reply when it did not think),
scored by the task's own ``score`` so that every consumer agrees on what counts as correct.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reasonsift.data.example import Example
from reasonsift.data.render import THINK_CLOSE, THINK_OPEN, completion_text, prompt_text
from reasonsift.evaluate.generate import greedy_generate
from reasonsift.models.template import render
from reasonsift.tasks import SPLITS, Task, get_task


def final_answer(response: str) -> str:
    """The answer part of a reply: after the last ``</think>``; empty if a ``<think>`` was never closed.

    >>> final_answer("<think>1+2=3</think>3")
    '3'
    >>> final_answer("<think>1+2=3")
    ''
    >>> final_answer(" 7 ")
    '7'
    """
    if THINK_CLOSE in response:
        return response.rsplit(THINK_CLOSE, 1)[1].strip()
    if THINK_OPEN in response:
        return ""
    return response.strip()


def score_responses(task: Task, examples: Sequence[Example], responses: Sequence[str]) -> list[float]:
    """Per-example score (1.0 correct, 0.0 wrong) of each reply's final answer."""
    if len(examples) != len(responses):
        raise ValueError(f"responses: {len(responses)} replies for {len(examples)} examples")
    return [task.score(ex, final_answer(r)) for ex, r in zip(examples, responses, strict=True)]


@dataclass
class TaskScore:
    task: str
    split: str
    n: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": self.accuracy}


@dataclass
class EvalResult:
    scores: list[TaskScore]
    # One record per example: id, task, split, response, answer, score (for inspection and tests).
    records: list[dict] = field(default_factory=list)

    def accuracy(self, task: str, split: str) -> float:
        for s in self.scores:
            if s.task == task and s.split == split:
                return s.accuracy
        raise KeyError(f"no score for task {task!r}, split {split!r}")

    def to_dict(self) -> dict:
        return {"scores": [s.to_dict() for s in self.scores]}


def default_max_new_tokens(tokenizer: PreTrainedTokenizerBase, examples: Sequence[Example]) -> int:
    """Room for twice the longest reference reply (plus slack): a model that rambles is cut, not waited on."""
    longest = max(len(tokenizer(completion_text(e), add_special_tokens=False).input_ids) for e in examples)
    return 2 * longest + 16


def evaluate_accuracy(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    tasks: Sequence[str],
    *,
    n: int = 500,
    splits: Sequence[str] = ("test",),
    seed: int = 0,
    difficulty: int | None = None,
    batch_size: int = 64,
    max_new_tokens: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> EvalResult:
    """Greedy exact-match accuracy of ``model`` on ``n`` items of each task and split."""
    if n < 1:
        raise ValueError(f"n: expected >= 1, got {n}")
    for s in splits:
        if s not in SPLITS:
            raise ValueError(f"split: unknown {s!r}; expected one of {', '.join(SPLITS)}")
    result = EvalResult(scores=[])
    for name in tasks:
        task = get_task(name)
        for split in splits:
            exs = task.generate(n, seed=seed, split=split, difficulty=difficulty)
            prompts = [
                render(tokenizer, [{"role": "user", "content": prompt_text(e)}], add_generation_prompt=True)
                for e in exs
            ]
            budget = max_new_tokens or default_max_new_tokens(tokenizer, exs)
            replies = greedy_generate(
                model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=budget, on_batch=on_batch
            )
            scores = score_responses(task, exs, replies)
            result.scores.append(TaskScore(name, split, len(exs), int(sum(scores))))
            result.records.extend(
                {"id": e.id, "task": name, "split": split, "response": r, "answer": e.answer, "score": s}
                for e, r, s in zip(exs, replies, scores, strict=True)
            )
    return result
