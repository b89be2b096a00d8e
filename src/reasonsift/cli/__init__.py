"""The ``reasonsift`` command line: thin typer verbs, one file each, that parse options and call library code."""

from __future__ import annotations

import typer

from reasonsift.cli import data as _data
from reasonsift.cli import demo as _demo
from reasonsift.cli import eval as _eval
from reasonsift.cli import model as _model
from reasonsift.cli import profile as _profile
from reasonsift.cli import retest as _retest
from reasonsift.cli import select as _select
from reasonsift.cli import train as _train
from reasonsift.cli import view as _view

app = typer.Typer(
    name="reasonsift",
    help="Find the training signal that teaches a language model to reason.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(
    _data.app, name="data", help="Generate, convert, validate, corrupt and describe reasoning datasets."
)
app.add_typer(_model.app, name="model", help="Load, pretrain, evaluate and describe causal LMs.")
app.command("profile")(_profile.profile)
app.command("eval")(_eval.eval_)
app.command("compare")(_eval.compare)
app.add_typer(_select.app, name="select", help="Select a budgeted, explained subset (docs/select.md).")
app.add_typer(
    _train.app, name="train", help="Fine-tune on TRL: SFT and GRPO with token masks (docs/train.md)."
)
app.command("retest")(_retest.retest)
app.command("view")(_view.view)
app.command("demo")(_demo.demo)


def main() -> None:
    app()
