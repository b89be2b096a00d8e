"""Pretraining checkpoints: model weights (a normal HF dir) + optimizer, scheduler and loop state."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import torch

from reasonsift.utils.io import atomic_path

_STEP_DIR = re.compile(r"^step-(\d+)$")
STATE_FILE = "trainer_state.pt"


def checkpoint_dirs(out_dir: Path) -> list[Path]:
    """Complete checkpoints under ``out_dir/checkpoints``, oldest first."""
    root = Path(out_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := _STEP_DIR.match(p.name))]
    return [p for _, p in sorted(found) if (p / STATE_FILE).is_file()]


def save_checkpoint(
    out_dir: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    loop_state: dict[str, Any],
    keep: int,
) -> Path:
    """Write ``checkpoints/step-NNNNNN`` atomically (a crash never leaves a half checkpoint); keep the last
    ``keep`` (0 keeps all)."""
    path = Path(out_dir) / "checkpoints" / f"step-{step:06d}"
    with atomic_path(path) as tmp:
        model.save_pretrained(tmp)
        torch.save(
            {
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "loop": loop_state,
                "torch_rng": torch.get_rng_state(),
            },
            tmp / STATE_FILE,
        )
    if keep > 0:
        for old in checkpoint_dirs(out_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    return path


def load_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> dict[str, Any]:
    """Restore weights, optimizer and scheduler from ``path`` in place; return the loop state."""
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(path / "model.safetensors"), device=str(model.device)))
    state = torch.load(path / STATE_FILE, map_location=model.device, weights_only=True)
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"].cpu())
    return state["loop"]
