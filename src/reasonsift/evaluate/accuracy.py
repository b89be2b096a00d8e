"""Greedy accuracy on tasks by task and split, with every verifier outcome counted apart.

The model sees the question rendered with its chat template (plain template otherwise) and a generation
prompt; its reply is judged by the task's own verifier (:meth:`Task.verify`, the final answer is the text
after the last ``</think>``) so that every consumer agrees on what counts as correct. ``accuracy`` is
correct / n; a verifier that timed out or crashed is counted as ``timeout``/``error``, never as wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from reasonsift.data.example import Example
from reasonsift.data.render import completion_text, prompt_text
from reasonsift.evaluate.generate import greedy_generate
from reasonsift.models.template import render
from reasonsift.tasks import SPLITS, Task, get_task
from reasonsift.tasks.outcome import STATES, Outcome, final_answer  # noqa: F401 - final_answer: public here too


def verify_responses(task: Task, examples: Sequence[Example], responses: Sequence[str]) -> list[Outcome]:
    """The task's verifier outcome of each reply."""
    if len(examples) != len(responses):
        raise ValueError(f"responses: {len(responses)} replies for {len(examples)} examples")
    return [task.verify(r, ex) for ex, r in zip(examples, responses, strict=True)]


@dataclass
class TaskScore:
    """Outcome counts of one task and split; the five counts sum to ``n``."""

    task: str
    split: str
    n: int
    correct: int = 0
    wrong: int = 0
    no_answer: int = 0
    timeout: int = 0
    error: int = 0

    @classmethod
    def count(cls, task: str, split: str, outcomes: Sequence[Outcome]) -> TaskScore:
        c = Counter(o.state for o in outcomes)
        return cls(task, split, len(outcomes), **{s: c[s] for s in STATES})

    @property
    def accuracy(self) -> float:
        """correct / n (verifier failures are not excluded: they are reported in ``timeout``/``error``)."""
        return self.correct / self.n if self.n else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": self.accuracy}


@dataclass
class EvalResult:
    scores: list[TaskScore]
    # One record per example: id, task, split, response, answer, state, score, extracted, detail.
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


def greedy_replies(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    examples: Sequence[Example],
    *,
    batch_size: int = 64,
    max_new_tokens: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Greedy replies to ``examples`` (their question as the user turn, with the generation prompt), in
    order; ``max_new_tokens`` defaults to :func:`default_max_new_tokens`."""
    prompts = [
        render(tokenizer, [{"role": "user", "content": prompt_text(e)}], add_generation_prompt=True)
        for e in examples
    ]
    budget = max_new_tokens or default_max_new_tokens(tokenizer, examples)
    return greedy_generate(
        model, tokenizer, prompts, batch_size=batch_size, max_new_tokens=budget, on_batch=on_batch
    )


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
    """Greedy accuracy of ``model`` on ``n`` items of each task and split, with outcome counts."""
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
            replies = greedy_replies(
                model, tokenizer, exs, batch_size=batch_size, max_new_tokens=max_new_tokens, on_batch=on_batch
            )
            outcomes = verify_responses(task, exs, replies)
            result.scores.append(TaskScore.count(name, split, outcomes))
            result.records.extend(
                {"id": e.id, "task": name, "split": split, "response": r, "answer": e.answer, **asdict(o)}
                for e, r, o in zip(exs, replies, outcomes, strict=True)
            )
    return result
