"""``manifest.json``: what produced a run — model identity, data hash, config, library versions, git commit."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import time
from pathlib import Path

import torch

from reasonsift.utils.io import file_sha256


def weights_sha256(model: torch.nn.Module) -> str:
    """SHA-256 over parameter names, shapes, dtypes and bytes (sorted by name): identifies in-process models."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def model_identity(model: torch.nn.Module, name: str, revision: str | None) -> dict:
    """Id plus revision (the hub commit when known); local directories and in-process models get a weight hash."""
    cfg = getattr(model, "config", None)
    rev = revision or getattr(cfg, "_commit_hash", None)
    out = {"name": name or getattr(cfg, "_name_or_path", "") or type(model).__name__, "revision": rev}
    out["class"] = type(model).__name__
    out["n_parameters"] = sum(p.numel() for p in model.parameters())
    p = Path(name) if name else None
    if p is not None and p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix in (".safetensors", ".bin", ".json"))
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode())
            h.update(file_sha256(f).encode())
        out["files_sha256"] = h.hexdigest()
    elif rev is None:
        out["weights_sha256"] = weights_sha256(model)
    return out


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict:
    import pyarrow
    import transformers

    import reasonsift

    return {
        "python": platform.python_version(),
        "reasonsift": reasonsift.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "pyarrow": pyarrow.__version__,
    }


def build_manifest(cfg_dict: dict, models: dict[str, dict], data_path: str | None) -> dict:
    data = {"path": data_path}
    # Only what can be read twice: a pipe, FIFO or stdin ("-") was consumed when the data was read.
    if data_path and (Path(data_path).is_file() or Path(data_path).is_dir()):
        data["sha256"] = file_sha256(data_path)
    return {
        "kind": "reasonsift.profile",
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "models": models,
        "data": data,
        "config": cfg_dict,
        "versions": versions(),
        "git_commit": git_commit(),
    }
