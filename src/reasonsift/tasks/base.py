"""The task interface, and the base class of the built-in procedural tasks.

:class:`Task` is what every task source satisfies, the built-in tasks and the reasoning-gym adapter
(``tasks/gym.py``) alike: ``name``, ``domain``, ``example``/``generate`` (items reproducible from
``(task, seed, split, index)``, provenance in ``source``/``meta``), ``verify(completion, example) -> Outcome``
(option letters for multiple choice, else the task's ``verify_free``) and ``check_trace``.

:class:`BuiltinTask` adds the machinery of the built-in tasks: each gives a step-by-step reference trace, a
free-form verifier, a trace validator, a difficulty knob and an out-of-distribution split (``ood``) harder
than anything in ``train``/``test``. The multiple-choice variant is built here once for all tasks from the
task's own distractors.
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from reasonsift.data.example import LETTERS, Example
from reasonsift.data.segment import get_segmenter
from reasonsift.tasks.outcome import Outcome, final_answer, no_answer

SPLITS = ("train", "test", "ood")
_OPTION_LINE = re.compile(r"(.*) is option ([A-Z])")


@dataclass
class Item:
    """What a task generates before it becomes an :class:`Example`."""

    question: str
    trace: str
    answer: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TraceCheck:
    """Result of validating a trace: ``step`` is the 0-based index of the first invalid step, if any."""

    valid: bool
    step: int | None = None
    reason: str = ""


def verify_letter(completion: str, example: Example) -> Outcome:
    """Verifier of a multiple-choice example: the final answer names the correct option letter (``B``, ``b)``).

    >>> ex = Example("q", "Pick", "B", choices=["1", "2"], format="multiple_choice")
    >>> verify_letter("<think>2 is option B</think>b)", ex).state, verify_letter("A", ex).state
    ('correct', 'wrong')
    >>> verify_letter("", ex).state
    'no_answer'
    """
    got = final_answer(completion)
    if not got:
        return no_answer(completion)
    letter = got.upper().rstrip(").")
    return Outcome.judged(letter == example.answer, letter)


class Task(ABC):
    """A source of reasoning items with a verifier: what the registry returns for every task name.

    ``verify`` never raises on model output and never reports a verifier failure (a crash, a hang) as a
    ``wrong`` answer: the :class:`Outcome`'s state says which it was.
    """

    name: str
    domain: str

    @abstractmethod
    def example(
        self,
        index: int,
        *,
        seed: int = 0,
        split: str = "train",
        difficulty: int | None = None,
        format: str = "free_form",
        n_choices: int = 4,
    ) -> Example:
        """Item ``index`` of ``(seed, split)``, reproducible from exactly these arguments."""

    def generate(
        self,
        n: int,
        *,
        seed: int = 0,
        split: str = "train",
        difficulty: int | None = None,
        format: str = "free_form",
        start: int = 0,
    ) -> list[Example]:
        return [
            self.example(i, seed=seed, split=split, difficulty=difficulty, format=format)
            for i in range(start, start + n)
        ]

    def verify(self, completion: str, example: Example) -> Outcome:
        """Verify a model's reply (its final answer is the text after the last ``</think>``): option letters
        for a multiple-choice example, else the task's own :meth:`verify_free`."""
        if example.format == "multiple_choice":
            return verify_letter(completion, example)
        return self.verify_free(completion, example)

    @abstractmethod
    def verify_free(self, completion: str, example: Example) -> Outcome:
        """The task's verifier of a free-form reply (for multiple choice: of an option's text)."""

    @abstractmethod
    def check_trace(self, example: Example, trace: str) -> TraceCheck:
        """Check a reference or model trace step by step; report the first invalid step and why."""

    def score(self, example: Example, response: str) -> float:
        """``verify(response, example).score``: 1.0 if correct, below 1 otherwise (partial credit possible)."""
        return self.verify(response, example).score


class BuiltinTask(Task):
    """A built-in procedural task. Subclasses implement :meth:`make`, :meth:`verify_free` and
    :meth:`validate_trace` (and :meth:`distractors` for the multiple-choice variant)."""

    name: ClassVar[str]
    domain: ClassVar[str]
    default_difficulty: ClassVar[int] = 1
    max_difficulty: ClassVar[int] = 5

    def rng(self, seed: int, split: str, index: int) -> random.Random:
        # String seeds are hashed deterministically by random (sha512), independent of PYTHONHASHSEED.
        return random.Random(f"{self.name}:{seed}:{split}:{index}")

    @abstractmethod
    def make(self, rng: random.Random, difficulty: int, split: str) -> Item:
        """One item. ``split == "ood"`` must be harder than any ``train``/``test`` item of the same difficulty."""

    @abstractmethod
    def validate_trace(self, example: Example, trace: str) -> TraceCheck:
        """Check a free-form trace step by step; report the first invalid step and why."""

    def distractors(self, rng: random.Random, item: Item, k: int) -> list[str]:
        """``k`` plausible wrong answers, distinct from each other and from the answer."""
        raise NotImplementedError(f"task {self.name!r} has no multiple-choice variant")

    # -- shared machinery --------------------------------------------------------------------------------

    def example(
        self,
        index: int,
        *,
        seed: int = 0,
        split: str = "train",
        difficulty: int | None = None,
        format: str = "free_form",
        n_choices: int = 4,
    ) -> Example:
        if split not in SPLITS:
            raise ValueError(f"split: unknown {split!r}; expected one of {', '.join(SPLITS)}")
        d = self.default_difficulty if difficulty is None else difficulty
        if not 1 <= d <= self.max_difficulty:
            raise ValueError(f"difficulty: {d} out of range 1..{self.max_difficulty} for task {self.name!r}")
        rng = self.rng(seed, split, index)
        item = self.make(rng, d, split)
        meta = {
            "task": self.name,
            "seed": seed,
            "split": split,
            "index": index,
            "difficulty": d,
            **item.meta,
        }
        ex = Example(
            id=f"{self.name}-{split}-{seed}-{index}" + ("-mc" if format == "multiple_choice" else ""),
            question=item.question,
            trace=item.trace,
            answer=item.answer,
            domain=self.domain,
            source=f"reasonsift:{self.name}:{split}:{seed}:{index}",
            meta=meta,
        )
        if format == "free_form":
            return ex
        if format != "multiple_choice":
            raise ValueError(f"format: unknown {format!r}; expected free_form or multiple_choice")
        wrong = self.distractors(rng, item, n_choices - 1)
        choices = [item.answer, *wrong]
        rng.shuffle(choices)
        letter = LETTERS[choices.index(item.answer)]
        ex.format = "multiple_choice"
        ex.choices = choices
        ex.answer = letter
        ex.meta["answer_text"] = item.answer
        ex.trace = self.mc_trace(ex, item)
        return ex

    def mc_trace(self, example: Example, item: Item) -> str:
        """Reference trace for the multiple-choice variant: the free-form reasoning, then the option matched."""
        return f"{item.trace}\n{item.answer} is option {example.answer}" if item.trace else ""

    def check_trace(self, example: Example, trace: str) -> TraceCheck:
        """Validate a trace of either variant (use this rather than :meth:`validate_trace` directly).

        A multiple-choice trace is the free-form reasoning plus a last line ``<answer> is option <L>``
        (:meth:`mc_trace`): the reasoning is checked by :meth:`validate_trace`, then that line must name the
        correct option by its text and letter.
        """
        if example.format != "multiple_choice":
            return self.validate_trace(example, trace)
        body, _, last = trace.rstrip().rpartition("\n")
        check = self.validate_trace(example, body)
        if not check.valid:
            return check
        n_steps = len(get_segmenter("auto")(body))
        m = _OPTION_LINE.fullmatch(last.strip())
        if not m:
            return TraceCheck(False, n_steps, f"last line {last!r} is not '<answer> is option <letter>'")
        if m.group(2) != example.answer or m.group(1).strip() != example.answer_text():
            return TraceCheck(
                False,
                n_steps,
                f"names {m.group(1)!r} as option {m.group(2)}; the answer is option {example.answer}",
            )
        return TraceCheck(True)
