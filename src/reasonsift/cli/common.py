"""Helpers shared by CLI verbs: config loading (``--config`` YAML + command-line overrides), error reporting
with the options spelled as the user typed them, rich console, progress bars."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from reasonsift.run.config import StageConfig, read_yaml
from reasonsift.utils.progress import console
from reasonsift.utils.progress import progress as _progress

out = Console()
C = TypeVar("C", bound=StageConfig)
_GIVEN = ("COMMANDLINE", "ENVIRONMENT")  # ParameterSource names (typer may vendor its own click)
_FIELD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*): ")
_META = "reasonsift.config"  # ctx.meta key: {"spell": {field: CLI spelling}, "yaml": path, "yaml_keys": set}


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return an Exit to raise: ``raise fail("...")``."""
    console.print("[bold red]error:[/] " + escape(message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


def config_option() -> Any:
    return typer.Option(
        None,
        "--config",
        metavar="FILE",
        help="YAML recipe of this verb's options (field names as in the config); options given here win.",
    )


# --engine and its options, shared by the shardable verbs (profile, eval); defaults from ScaleOptions.
def _scale_default(name: str) -> Any:
    from reasonsift.scale.options import ScaleOptions

    return getattr(ScaleOptions(), name)


ENGINE = typer.Option(
    _scale_default("engine"),
    help="local (this process) or ray (Ray Data, one model per actor; pip install 'reasonsift[ray]').",
)
RAY_ADDRESS = typer.Option(
    None,
    metavar="ADDRESS",
    help="Ray cluster to join (auto, ray://HOST:10001); default: a local Ray instance.",
)
RAY_WORKERS = typer.Option(_scale_default("ray_workers"), help="Ray actors, one model each (--engine ray).")
GPUS_PER_WORKER = typer.Option(
    None, help="GPUs per Ray actor (default: 1 when the Ray cluster has GPUs, else 0)."
)
CPUS_PER_WORKER = typer.Option(_scale_default("cpus_per_worker"), help="CPUs per Ray actor.")


def flag(default: bool, decls: str, help: str) -> Any:
    """An on/off flag (``--x/--no-x``, or a lone ``--x``) shown without a value type."""
    return typer.Option(default, *decls.split(" "), metavar="", help=help)


def default(cls: type[StageConfig], name: str) -> Any:
    """A config field's default as a CLI default (lists comma-joined, dicts as k=v pairs): never restated."""
    v = cls.default(name)
    if isinstance(v, list | tuple):
        return ",".join(map(str, v))
    if isinstance(v, dict):
        return ",".join(f"{k}={w:g}" if isinstance(w, float) else f"{k}={w}" for k, w in v.items())
    return v


def spelling(param: Any) -> str:
    """How the user spells a click parameter: ``--batch-size`` for options, ``DATA`` for arguments."""
    if param.param_type_name == "argument":
        return param.metavar or param.name.upper()
    longs = [o for o in param.opts if o.startswith("--")]
    return longs[0] if longs else param.opts[0]


def load_config(
    ctx: typer.Context,
    cls: type[C],
    config: Path | None,
    *,
    rename: dict[str, str] | None = None,
    required: tuple[str, ...] = (),
) -> C:
    """The verb's config: the YAML recipe ``config`` (if any), then only the options given on the command
    line (``rename`` maps parameter names to config fields). Errors name the option where the user sets it:
    ``recipe.yaml: batch_size: ...`` for a value from the file, else ``--batch-size: ...``."""
    rename = rename or {}
    given, names = {}, {}
    for p in ctx.command.params:
        if p.name in ("config", "help") or p.name not in ctx.params:
            continue
        field = rename.get(p.name, p.name)
        names[field] = names[field.rstrip("_")] = spelling(p)  # "from_" is reported as "from"
        if getattr(ctx.get_parameter_source(p.name), "name", None) in _GIVEN:
            v = ctx.params[p.name]
            given[field] = str(v) if isinstance(v, os.PathLike) else v
    try:
        data = read_yaml(config) if config else {}
    except (ValueError, FileNotFoundError) as e:
        raise fail(str(e)) from None
    meta = ctx.meta.setdefault(_META, {})
    meta.update(spell=names, yaml=config, yaml_keys={k.rstrip("_") for k in set(data) - set(given)})
    merged = {**data, **given}
    for f in required:
        if merged.get(f) in (None, ""):
            where = f" or `{f}:` in --config" if config else ""
            raise fail(f"missing {names.get(f, f)}{where}")
    with user_errors(ctx):
        return cls.from_dict(merged)


def spell_error(message: str, ctx: typer.Context | None) -> str:
    """Rewrite a ``field: ...`` error with the option as the user gives it (see ``load_config``): the recipe
    file and field when the value came from ``--config``, else the command-line option (``--batch-size``)."""
    meta = ctx.meta.get(_META) if ctx is not None else None
    m = _FIELD.match(message)
    if not meta or not m:
        return message
    field = m.group(1)
    if meta.get("yaml") and field.rstrip("_") in meta["yaml_keys"]:  # set in the recipe, not overridden
        return f"{meta['yaml']}: {message}"
    if field in meta["spell"]:  # given on the command line, or to be given there
        return meta["spell"][field] + message[len(field) :]
    return message


@contextlib.contextmanager
def user_errors(ctx: typer.Context | None = None) -> Iterator[None]:
    """Turn the library's ValueError/FileNotFoundError (clear messages by design) into a clean CLI exit,
    naming the option as the user spelled it when ``ctx`` went through ``load_config``."""
    try:
        yield
    except (ValueError, FileNotFoundError, PermissionError, OSError) as e:
        raise fail(spell_error(str(e), ctx)) from None


def progress(**kw) -> Progress:
    """A rich progress bar with count, elapsed and remaining time (extra columns via ``extra=``)."""
    return _progress(*kw.pop("extra", ()), transient=False, **kw)
