"""Shared by the trainer tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import reasonsift
from reasonsift.train.common import CURVES_FILE, read_curves

TINY = Path(reasonsift.__file__).parent / "assets" / "models" / "tiny-arith"


def curves(out: Path) -> list[dict]:
    return read_curves(out / CURVES_FILE)


def loads_in_fresh_process(path: Path, adapter: bool = False) -> None:
    """The exported model (or adapter) loads and runs with plain transformers / PEFT in a new interpreter."""
    cls = "from peft import AutoPeftModelForCausalLM as M" if adapter else (
        "from transformers import AutoModelForCausalLM as M"
    )  # fmt: skip
    code = (
        f"{cls}\nimport torch\nm = M.from_pretrained({str(path)!r})\n"
        "print(m(input_ids=torch.tensor([[1, 2, 3]])).logits.shape)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd="/")
    assert r.returncode == 0, r.stderr[-2000:]
