"""The shipped built-in models and the recipes that reproduce them.

``builtin_model_path("tiny-arith")`` is the checkpoint in ``reasonsift/assets/models``;
``ensure_builtin_model`` returns it, or pretrains it from its recorded recipe into a cache directory when
the asset is missing (e.g. a source checkout without the binary files).
"""

from __future__ import annotations

import os
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"

# Recipes: keyword arguments of ``PretrainConfig`` (besides out_dir). The shipped checkpoints were trained
# from exactly these (each directory's reasonsift_pretrain.json records the full resolved config).
RECIPES: dict[str, dict] = {
    "tiny-arith": {
        "name": "tiny-arith",
        "tasks": ["arith"],
        "steps": 2000,
        "seed": 0,
        "mixture": {"trace": 1.0, "answer": 0.0, "trace_only": 0.0},
        "eval_every": 250,  # logging only: greedy evaluation does not touch weights or the RNG
        "eval_n": 100,
    },
    # The same recipe without traces (question -> answer only): the demo's "do traces matter?" comparison.
    "tiny-arith-answer": {
        "name": "tiny-arith-answer",
        "tasks": ["arith"],
        "steps": 2000,
        "seed": 0,
        "mixture": {"trace": 0.0, "answer": 1.0, "trace_only": 0.0},
        "eval_every": 500,
        "eval_n": 100,
    },
}


def builtin_names() -> list[str]:
    return sorted(RECIPES)


def builtin_model_path(name: str = "tiny-arith") -> Path:
    """Path of the shipped checkpoint ``name``; ``FileNotFoundError`` when it is not shipped."""
    if name not in RECIPES:
        raise ValueError(f"name: unknown built-in model {name!r}; available: {', '.join(builtin_names())}")
    path = ASSETS / name
    if not (path / "model.safetensors").is_file():
        raise FileNotFoundError(f"built-in model {name!r} is not shipped at {path}; use ensure_builtin_model")
    return path


def cache_dir() -> Path:
    root = (
        os.environ.get("REASONSIFT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "reasonsift"
    )
    return Path(root).expanduser() / "models"


def ensure_builtin_model(
    name: str = "tiny-arith", *, cache: Path | None = None, progress: bool = True
) -> Path:
    """The shipped checkpoint, else a cached one, else pretrain it from its recipe into the cache."""
    try:
        return builtin_model_path(name)
    except FileNotFoundError:
        pass
    out = Path(cache or cache_dir()) / name
    if (out / "model.safetensors").is_file():
        return out
    from reasonsift.train.pretrain import PretrainConfig, main

    main(PretrainConfig(out_dir=str(out), resume=True, progress=progress, **RECIPES[name]))
    return out
