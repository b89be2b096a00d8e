"""``reasonsift view`` as a library call: ``ViewConfig`` and ``main(cfg)``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reasonsift.run.config import StageConfig


@dataclass
class ViewConfig(StageConfig):
    run_dir: str = ""  # a profile run directory
    out: str | None = None  # HTML file to write; None: RUN_DIR/viewer.html
    max_examples: int | None = None  # embed only the first N examples (the plots still cover all)

    def __post_init__(self) -> None:
        if not self.run_dir:
            raise ValueError("run_dir: no run directory given")
        if self.max_examples is not None and self.max_examples < 0:
            raise ValueError(f"max_examples: expected >= 0, got {self.max_examples}")

    def target(self) -> Path:
        return Path(self.out) if self.out else Path(self.run_dir) / "viewer.html"


def main(
    cfg: ViewConfig,
    on_shard: Callable[[int, int], None] | None = None,
    on_incomplete: Callable[[list[str]], None] | None = None,
) -> Path:
    """Write the viewer; ``on_incomplete(notes)`` when the run is not whole (the page shows a banner too)."""
    from reasonsift.report.viewer import render_viewer

    return render_viewer(
        cfg.run_dir,
        cfg.target(),
        max_examples=cfg.max_examples,
        on_shard=on_shard,
        on_incomplete=on_incomplete,
    )
