"""``manifest.json``: what produced a run — stage, model identities, input hashes, parent runs, resolved
config, library versions, git commit. Every stage writes one, last, so a result traces back to its data."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

from reasonsift.run.dir import MANIFEST_FILE
from reasonsift.utils.io import file_sha256

# Files of a run record that change from run to run: not part of a model directory's identity.
_NOT_IDENTITY = {MANIFEST_FILE, "run_config.json"}


def weights_sha256(model) -> str:
    """SHA-256 over parameter names, shapes, dtypes and bytes (sorted by name): identifies in-process models."""
    import torch

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
        h.update(t.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def model_identity(model, name: str, revision: str | None) -> dict[str, Any]:
    """Id plus revision (the hub commit when known); local directories and in-process models get a weight
    hash. A model directory that is itself a run (``reasonsift model pretrain``) is named as ``run_dir``."""
    cfg = getattr(model, "config", None)
    rev = revision or getattr(cfg, "_commit_hash", None)
    out = {"name": name or getattr(cfg, "_name_or_path", "") or type(model).__name__, "revision": rev}
    out["class"] = type(model).__name__
    out["n_parameters"] = sum(p.numel() for p in model.parameters())
    p = Path(name) if name else None
    if p is not None and p.is_dir():
        files = sorted(
            f
            for f in p.iterdir()
            if f.suffix in (".safetensors", ".bin", ".json") and f.name not in _NOT_IDENTITY
        )
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode())
            h.update(file_sha256(f).encode())
        out["files_sha256"] = h.hexdigest()
        out.update(_run_of(p))
    elif rev is None:
        out["weights_sha256"] = weights_sha256(model)
    return out


def examples_input(path: str | Path | None, examples) -> dict[str, Any]:
    """The identity of data a stage read: the file's (or directory's) hash, else (stdin, a pipe, a hub id,
    in-process or generated examples) a hash of the examples themselves; a pipe cannot be read twice."""
    p = Path(path) if path else None
    if p is not None and (p.is_file() or p.is_dir()):
        return input_record(path)
    h = hashlib.sha256()
    for ex in examples:
        h.update(json.dumps(ex.to_dict(), sort_keys=True, default=str).encode() + b"\n")
    return input_record(path or None, sha256=h.hexdigest())


def input_record(path: str | Path | None, sha256: str | None = None) -> dict[str, Any]:
    """``{path, sha256}`` of an input (a file or a directory; hub ids get no hash), plus ``run_dir`` and
    ``stage`` when it lies inside a run directory, so a later stage names its parents by their data."""
    rec: dict[str, Any] = {"path": str(path) if path is not None else None, "sha256": sha256}
    if path is None:
        return rec
    p = Path(path)
    if sha256 is None and p.exists():
        rec["sha256"] = file_sha256(p)
    if p.exists():
        rec.update(_run_of(p))
    return rec


def _run_of(p: Path) -> dict[str, Any]:
    """The nearest run directory holding ``p`` (itself or a parent with a manifest.json), with its stage."""
    p = p.resolve()
    for d in (p, *p.parents):
        m = d / MANIFEST_FILE
        if m.is_file():
            try:
                stage = json.loads(m.read_text(encoding="utf-8")).get("stage")
            except (OSError, ValueError):
                stage = None
            return {"run_dir": str(d), "stage": stage}
    return {}


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[3]
        r = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or None if r.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict[str, str]:
    import pyarrow
    import torch
    import transformers

    import reasonsift

    return {
        "python": platform.python_version(),
        "reasonsift": reasonsift.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "pyarrow": pyarrow.__version__,
    }


def build_manifest(
    stage: str,
    config: dict[str, Any],
    *,
    models: dict[str, dict] | None = None,
    inputs: list[dict] | None = None,
    parents: list[str] | None = None,
    resolved: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a finished run. ``parents`` (run directories it was made from) defaults to the
    ``run_dir`` of every input and model that lies in one."""
    models, inputs = models or {}, inputs or []
    found = [r["run_dir"] for r in [*inputs, *models.values()] if r.get("run_dir")]
    return {
        "stage": stage,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "models": models,
        "inputs": inputs,
        "parents": list(dict.fromkeys([*(parents or []), *found])),
        "config": config,
        "resolved": resolved or {},
        "result": result or {},
        "versions": versions(),
        "git_commit": git_commit(),
    }


def read_manifest(run_dir: str | Path) -> dict[str, Any]:
    p = Path(run_dir) / MANIFEST_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{run_dir}: no {MANIFEST_FILE} (not a finished run)")
    return json.loads(p.read_text(encoding="utf-8"))
