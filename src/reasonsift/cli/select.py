"""`reasonsift select DATA --recipe NAME|FILE --budget N -o OUT` and `reasonsift select reflect ORIGINAL REFINED`.

``select`` is a group whose default command is the selection itself: ``reasonsift select DATA ...`` runs it,
``reasonsift select reflect ...`` the selective-reflection rule (a data file named ``reflect`` is
``./reflect``). ``reasonsift select --help`` shows the selection's options.
"""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperCommand, TyperGroup

from reasonsift.cli.common import config_option, console, flag, load_config, out, user_errors
from reasonsift.select.pipeline import SelectConfig
from reasonsift.select.reflect_run import ReflectConfig

D, R = (
    SelectConfig.default,
    ReflectConfig.default,
)  # every default lives in the configs; none is restated here
_RUN = "run"


class _DefaultRun(TyperGroup):
    """Anything but a subcommand name goes to the hidden ``run`` command, shown as ``reasonsift select``."""

    def parse_args(self, ctx, args):
        if not args or args[0] not in self.commands:
            args = [_RUN, *args]
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx, args):
        name, cmd, rest = super().resolve_command(ctx, args)
        return ("" if name == _RUN else name), cmd, rest  # usage and errors read "reasonsift select DATA"


class _Ctx(typer.Context):
    @property
    def command_path(self) -> str:
        return super().command_path.rstrip()


class _Bare(TyperCommand):
    context_class = _Ctx


app = typer.Typer(cls=_DefaultRun, add_completion=False)


@app.command(_RUN, hidden=True, cls=_Bare)
def select(
    ctx: typer.Context,
    data: Path = typer.Argument(
        None,
        metavar="DATA",
        show_default=False,
        help="Pool of examples: JSONL, JSON, Parquet or dataset dir.",
    ),
    profile: Path = typer.Option(
        None, "--profile", metavar="RUN", help="Profile run of DATA: IFD, entropy, forking columns by id."
    ),
    eval_: Path = typer.Option(
        None, "--eval", metavar="RUN", help="Eval run of the student on DATA: solve rate per question by id."
    ),
    recipe: str = typer.Option(
        D("recipe"), "--recipe", metavar="NAME|FILE", help="s1, limo, ifd, forking, random, or a FILE.yaml."
    ),
    budget: int = typer.Option(D("budget"), metavar="N", help="Examples to select (the recipe's n)."),
    tokens: int = typer.Option(D("tokens"), metavar="T", help="Fill the recipe's budget stage to T tokens."),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="OUT", help="Run directory to write."),
    split: str = typer.Option(D("split"), help="Split of a Hugging Face dataset directory or hub id."),
    seed: int = typer.Option(D("seed"), help="Seed of every random choice of every stage."),
    embed_model: str = typer.Option(
        D("embed_model"), metavar="MODEL", help="Embeds examples (mean hidden states) for diversity coverage."
    ),
    resume: bool = flag(D("resume"), "--resume", "Rerun into OUT (same options and inputs)."),
    overwrite: bool = flag(D("overwrite"), "--overwrite", "Replace an existing selection in OUT."),
    config: Path = config_option(),
) -> None:
    """Select a budgeted, explained subset of DATA by a recipe of stages (docs/select.md).

    `reasonsift select reflect ORIGINAL REFINED --model M -o OUT`: the selective-reflection rule (see its --help).
    """
    from reasonsift.select.pipeline import main

    cfg = load_config(ctx, SelectConfig, config, rename={"eval_": "eval"}, required=("data", "out_dir"))
    with user_errors(ctx), console.status("selecting"):
        res = main(cfg)
    from rich.table import Table

    t = Table(title=f"select (recipe {cfg.recipe})")
    for c in ("stage", "in", "kept", "dropped"):
        t.add_column(c, justify="left" if c == "stage" else "right")
    for s in res.stages:
        t.add_row(s["stage"], str(s["in"]), str(s["kept"]), str(s["dropped"]))
    out.print(t)
    console.print(f"read {res.n_read} = kept {res.n_kept} + dropped {res.n_dropped}; wrote {res.out_dir}")


@app.command("reflect")
def reflect(
    ctx: typer.Context,
    original: Path = typer.Argument(
        None, metavar="ORIGINAL", show_default=False, help="Original (Q, A) data."
    ),
    refined: Path = typer.Argument(
        None, metavar="REFINED", show_default=False, help="Teacher-refined (Q*, A*) data, paired by id."
    ),
    model: str = typer.Option(None, "--model", "-m", metavar="MODEL", help="Student model that scores both."),
    out_dir: Path = typer.Option(None, "--out", "-o", metavar="OUT", help="Run directory to write."),
    split: str = typer.Option(R("split"), help="Split of Hugging Face dataset directories."),
    device: str = typer.Option(R("device"), help="auto, cpu, cuda, cuda:1, mps."),
    dtype: str = typer.Option(R("dtype"), help="auto (bfloat16 on GPU, float32 on CPU), float32, bfloat16."),
    trust_remote_code: bool = flag(
        R("trust_remote_code"), "--trust-remote-code", "Run the repository's code."
    ),
    allow_pickle: bool = flag(R("allow_pickle"), "--allow-pickle", "Accept pickle (.bin) weights (unsafe)."),
    resume: bool = flag(R("resume"), "--resume", "Rerun into OUT (same options and inputs)."),
    overwrite: bool = flag(R("overwrite"), "--overwrite", "Replace an existing run in OUT."),
    config: Path = config_option(),
) -> None:
    """Selective reflection (CLAIMS.md C7): pair records by id, score (Q, A), (Q*, A*), (Q, A*), (Q*, A) with the
    student, keep (Q*, A*), (Q, A*) or neither by the rule on IFD and r-IFD; writes pairs.parquet (choice,
    branch, the numbers that decided it) and selected.parquet (the chosen versions)."""
    from reasonsift.select.reflect_run import main

    cfg = load_config(ctx, ReflectConfig, config, required=("original", "refined", "model", "out_dir"))
    with user_errors(ctx), console.status("scoring pairs"):
        res = main(cfg)
    counts = ", ".join(f"{v} {k}" for k, v in res.items() if k != "pairs")
    console.print(f"{res['pairs']} pairs: {counts}; wrote {cfg.out_dir}")
