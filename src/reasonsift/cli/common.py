"""Helpers shared by CLI verbs: error reporting, rich console, progress bars."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from reasonsift.utils.progress import console
from reasonsift.utils.progress import progress as _progress

out = Console()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error and return an Exit to raise: ``raise fail("...")``."""
    console.print("[bold red]error:[/] " + escape(message), highlight=False, soft_wrap=True)
    return typer.Exit(code)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's ValueError/FileNotFoundError (clear messages by design) into a clean CLI exit."""
    try:
        yield
    except (ValueError, FileNotFoundError, PermissionError, OSError) as e:
        raise fail(str(e)) from None


def progress(**kw) -> Progress:
    """A rich progress bar with count, elapsed and remaining time (extra columns via ``extra=``)."""
    return _progress(*kw.pop("extra", ()), transient=False, **kw)
