"""``gym:<name>``: any reasoning-gym dataset as a task source (``reasoning_gym.create_dataset``).

Items keep their provenance (``meta["source_dataset"]``, ``meta["source_index"]``, plus the gym seed, size
and config needed to regenerate them) and are verified by the dataset's own ``score_answer``, run in a forked
child with a time limit: only a score of 1.0 is ``correct``, a hang is ``timeout`` and a crash ``error``. Splits
``train`` and ``test`` are two gym seeds derived from ``(dataset, seed, split)``: reasoning-gym seeds item
``i`` with ``Random(seed + i)``, so neighbouring seeds would share items; hashed seeds do not (in practice).
There is no ``ood`` split and no difficulty knob (pass the dataset's own config instead); reasoning-gym items
carry no reference trace, so there is nothing to validate.
"""

from __future__ import annotations

import hashlib
import json
import random
from functools import cached_property
from typing import Any

from reasonsift.data.example import LETTERS, Example
from reasonsift.tasks.base import Task, TraceCheck
from reasonsift.tasks.outcome import ERROR, TIMEOUT, Outcome, final_answer, no_answer
from reasonsift.utils.timeout import VerifierTimeout, call_with_timeout

GYM_SPLITS = ("train", "test")
DEFAULT_SIZE = 10_000  # virtual size; a few datasets precompute all items, so keep it moderate


def _require_gym():
    try:
        import reasoning_gym
    except ImportError as e:  # pragma: no cover - reasoning-gym is in the dev extras
        raise ValueError("task: gym tasks need reasoning-gym: pip install 'reasonsift[gym]'") from e
    return reasoning_gym


def gym_dataset_names() -> list[str]:
    return sorted(_require_gym().factory.DATASETS)


class GymTask(Task):
    """One reasoning-gym dataset as a :class:`Task`."""

    default_difficulty = None
    max_difficulty = None
    verify_timeout = 5.0  # seconds per score_answer call

    def __init__(self, dataset: str, *, size: int = DEFAULT_SIZE, **config: Any) -> None:
        if dataset not in gym_dataset_names():
            raise ValueError(f"task: unknown reasoning-gym dataset {dataset!r}")
        if size < 1:
            raise ValueError(f"size: {size} must be positive")
        self.dataset_name, self.size, self.config = dataset, size, config
        self.name = f"gym:{dataset}"
        self._cache: dict[tuple[int, int, str], Any] = {}

    @cached_property
    def domain(self) -> str:
        # reasoning-gym's category is the package of the dataset class (reasoning_gym.<category>.<module>).
        from reasoning_gym.factory import DATASETS

        parts = DATASETS[self.dataset_name][0].__module__.split(".")
        return parts[1] if len(parts) >= 3 else "other"

    def gym_seed(self, seed: int, split: str) -> int:
        if split not in GYM_SPLITS:
            raise ValueError(f"split: {split!r} is not available for {self.name}; expected train or test")
        digest = hashlib.sha256(f"{self.dataset_name}:{seed}:{split}".encode()).hexdigest()
        return int(digest[:8], 16)

    def _dataset(self, gym_seed: int, size: int, config: dict[str, Any] | None = None):
        config = self.config if config is None else config
        key = (gym_seed, size, json.dumps(config, sort_keys=True, default=str))
        if key not in self._cache:
            rg = _require_gym()
            self._cache[key] = rg.create_dataset(self.dataset_name, size=size, seed=gym_seed, **config)
        return self._cache[key]

    def entry(self, example: Example) -> dict[str, Any]:
        """The reasoning-gym item an example came from, regenerated from its provenance."""
        return self._source(example)[int(example.meta["source_index"])]

    def _source(self, example: Example):
        # The example's own recorded config, so a plain ``gym:<name>`` task verifies configured items too.
        m = example.meta
        return self._dataset(int(m["gym_seed"]), int(m["gym_size"]), dict(m.get("gym_config") or {}))

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
        if difficulty is not None:
            raise ValueError(f"difficulty: {self.name} has no difficulty knob; set the dataset's config")
        if not 0 <= index < self.size:
            raise ValueError(f"index: {index} out of range 0..{self.size - 1} for {self.name}")
        if format not in ("free_form", "multiple_choice"):
            raise ValueError(f"format: unknown {format!r}; expected free_form or multiple_choice")
        gseed = self.gym_seed(seed, split)
        entry = self._dataset(gseed, self.size)[index]
        answer = str(entry["answer"])
        meta = {
            "task": self.name,
            "seed": seed,
            "split": split,
            "index": index,
            "source_dataset": self.dataset_name,
            "source_index": index,
            "gym_seed": gseed,
            "gym_size": self.size,
            "gym_config": dict(self.config),
        }
        ex = Example(
            id=f"{self.name}-{split}-{seed}-{index}" + ("-mc" if format == "multiple_choice" else ""),
            question=str(entry["question"]),
            answer=answer,
            domain=self.domain,
            source=f"reasoning_gym:{self.dataset_name}:{gseed}:{index}",
            meta=meta,
        )
        if format == "free_form":
            return ex
        rng = random.Random(f"{self.name}:{seed}:{split}:{index}:mc")
        choices = [answer, *self.distractors(rng, entry, index, gseed, n_choices - 1)]
        rng.shuffle(choices)
        ex.format, ex.choices = "multiple_choice", choices
        ex.answer = LETTERS[choices.index(answer)]
        ex.meta["answer_text"] = answer
        return ex

    def distractors(self, rng: random.Random, entry: dict, index: int, gseed: int, k: int) -> list[str]:
        """Answers of other items of the same dataset that score below 1 here: right type, wrong value."""
        ds = self._dataset(gseed, self.size)
        out: list[str] = []
        offsets = list(range(1, min(self.size, 200)))
        rng.shuffle(offsets)
        for off in offsets:
            cand = str(ds[(index + off) % self.size]["answer"])
            if cand != str(entry["answer"]) and cand not in out and ds.score_answer(cand, entry) < 1.0:
                out.append(cand)
                if len(out) == k:
                    return out
        raise NotImplementedError(f"task {self.name!r}: too few distinct answers for {k} distractors")

    def verify_free(self, completion: str, example: Example) -> Outcome:
        """The dataset's own ``score_answer`` on the final answer, in a child process killed after
        ``verify_timeout`` seconds: third-party parsing of model output must not hang an evaluation, and its
        hang (``timeout``) or crash (``error``) is not the model's wrong answer. Partial credit stays
        ``wrong`` with its score."""
        got = final_answer(completion)
        if not got:
            return no_answer(completion)
        try:
            score = call_with_timeout(
                self._source(example).score_answer, got, self.entry(example), timeout=self.verify_timeout
            )
        except VerifierTimeout as e:
            return Outcome(TIMEOUT, 0.0, got, str(e))
        except RuntimeError as e:
            return Outcome(ERROR, 0.0, got, str(e))
        return Outcome.from_score(score, got)

    def validate_trace(self, example: Example, trace: str) -> TraceCheck:
        return TraceCheck(
            False, None, f"{self.name} has no trace validator (reasoning-gym items have no traces)"
        )

    check_trace = validate_trace
