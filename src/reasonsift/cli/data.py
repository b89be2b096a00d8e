"""`reasonsift data ...` verbs. Formats (convert/validate/stats) live here; task verbs in data_generate.py."""

from __future__ import annotations

import typer

from reasonsift.cli.data_generate import corrupt, generate

app = typer.Typer(no_args_is_help=True)
app.command("generate")(generate)
app.command("corrupt")(corrupt)
