"""``reasonsift data generate`` as a library call: ``GenerateConfig`` and ``main(cfg)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reasonsift.data.example import Example
from reasonsift.run.config import StageConfig


@dataclass
class GenerateConfig(StageConfig):
    task: str = ""  # arith, maze, logic, or gym:<reasoning-gym dataset>
    out: str = ""  # output file (.jsonl or .parquet)
    n: int = 100
    seed: int = 0  # item i is reproducible from (task, seed, split, i)
    format: str = "free_form"  # free_form | multiple_choice
    split: str = "train"  # train | test | ood (ood: harder than train/test)
    difficulty: int | None = None  # 1..5; None: the task's default (not for gym tasks)
    start: int = 0  # index of the first item (to extend a dataset)

    def __post_init__(self) -> None:
        from reasonsift.data.io import output_format

        if not self.task:
            raise ValueError("task: no task given")
        if not self.out:
            raise ValueError("out: no output file given")
        if self.n < 1:
            raise ValueError(f"n: {self.n} must be at least 1")
        if self.start < 0:
            raise ValueError(f"start: expected >= 0, got {self.start}")
        output_format(self.out, None)


def main(cfg: GenerateConfig, on_item: Callable[[], None] | None = None) -> list[Example]:
    """Generate ``cfg.n`` items from ``cfg.start`` and write them to ``cfg.out``; bad options fail first.
    ``on_item()`` is called after each item (items are then made one at a time)."""
    from reasonsift.data.io import write_examples
    from reasonsift.tasks import get_task

    task = get_task(cfg.task)
    kw = {"seed": cfg.seed, "split": cfg.split, "difficulty": cfg.difficulty, "format": cfg.format}
    task.example(cfg.start, **kw)  # fail fast on a bad option before any work
    try:
        if on_item is None:
            examples = task.generate(cfg.n, start=cfg.start, **kw)
        else:
            examples = []
            for i in range(cfg.start, cfg.start + cfg.n):
                examples.append(task.example(i, **kw))
                on_item()
    except NotImplementedError as e:  # an option the task does not support
        raise ValueError(str(e)) from None
    write_examples(examples, cfg.out)
    return examples
