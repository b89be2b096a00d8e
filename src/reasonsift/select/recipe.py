"""Recipes: an ordered list of stages with their parameters, as YAML (shipped ones in ``select/recipes/``).

A recipe file is a YAML list of mappings, each ``{stage: NAME, PARAM: VALUE, ...}``; the stages run in
order, each on the records the previous ones kept. ``--budget N`` sets ``n`` of every stage that sizes the
selection (:data:`SIZING`), ``--tokens T`` sets ``tokens`` of the ``budget`` stages.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonsift.select.base import STAGES, Stage, get_stage

RECIPES_DIR = Path(__file__).parent / "recipes"
SIZING = ("budget", "random", "diversity")  # stages whose ``n`` is the selection's size
_NOT_STAGES = {"base", "pipeline", "recipe", "join", "card", "embed", "reflect", "reflect_run", "values"}


@dataclass
class StageSpec:
    name: str
    params: dict[str, Any] = field(default_factory=dict)


def recipe_names() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def recipe_path(recipe: str) -> Path:
    """A shipped recipe's file by name (``s1``), or a user's YAML file by path."""
    p = Path(recipe)
    if p.suffix in (".yaml", ".yml") or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"recipe: no such file {p}")
        return p
    if recipe == "reflection":  # the name for it; it pairs two files, so it is its own command
        raise ValueError(
            "recipe: selective reflection pairs an original and a refined file by id; run "
            "`reasonsift select reflect ORIGINAL REFINED --model M -o OUT`"
        )
    shipped = RECIPES_DIR / f"{recipe}.yaml"
    if not shipped.is_file():
        raise ValueError(
            f"recipe: unknown recipe {recipe!r}; shipped: {', '.join(recipe_names())} (or a FILE.yaml)"
        )
    return shipped


def load_recipe(recipe: str) -> list[StageSpec]:
    """The stages of a recipe (name or path); ``ValueError("recipe: PATH: ...")`` when it is malformed."""
    import yaml

    path = recipe_path(recipe)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ValueError(f"recipe: {path}: not valid YAML ({e})") from None
    if not isinstance(data, list) or not data:
        raise ValueError(f"recipe: {path}: expected a list of stages ({{stage: NAME, ...params}})")
    specs = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("stage"), str):
            raise ValueError(f"recipe: {path}: item {i + 1} needs a 'stage: NAME' key, got {item!r}")
        params = {k: v for k, v in item.items() if k != "stage"}
        specs.append(StageSpec(item["stage"], params))
    return specs


def apply_budget(specs: list[StageSpec], budget: int | None, tokens: int | None) -> list[StageSpec]:
    """``--budget`` sets ``n`` of the sizing stages, ``--tokens`` sets ``tokens`` of the budget stages."""
    out = [StageSpec(s.name, dict(s.params)) for s in specs]
    if budget is not None:
        sizing = [s for s in out if s.name in SIZING]
        if not sizing:
            raise ValueError(f"budget: the recipe has no stage that takes a budget ({', '.join(SIZING)})")
        for s in sizing:
            s.params["n"] = budget
    if tokens is not None:
        budgets = [s for s in out if s.name == "budget"]
        if not budgets:
            raise ValueError("tokens: the recipe has no budget stage (add {stage: budget} to fill to tokens)")
        for s in budgets:
            s.params["tokens"] = tokens
    return out


def build_stages(specs: list[StageSpec]) -> list[Stage]:
    """Construct each stage; an unknown name raises ``ValueError`` naming it and listing the known stages,
    a bad parameter raises the stage's ``ValueError`` prefixed with the stage's position."""
    stages = []
    for i, s in enumerate(specs):
        if s.name not in STAGES:
            _import_all()
        if s.name not in STAGES:
            raise ValueError(f"recipe: unknown stage {s.name!r}; known: {', '.join(sorted(STAGES))}")
        try:
            stages.append(get_stage(s.name, **s.params))
        except (ValueError, TypeError) as e:
            raise ValueError(f"recipe: stage {i + 1} ({s.name}): {e}") from None
    return stages


def _import_all() -> None:
    """Import every stage module of ``reasonsift.select`` so that the registry lists them all."""
    import reasonsift.select as pkg

    for m in pkgutil.iter_modules(pkg.__path__):
        if not m.ispkg and m.name not in _NOT_STAGES:
            importlib.import_module(f"reasonsift.select.{m.name}")
