"""The whole `xinyong` application: every command of :data:`xinyong.cli.COMMANDS` mounted on
one Typer (what the tests drive, and what `xinyong` falls back to for its own options)."""

from __future__ import annotations

import typer

from xinyong.cli import COMMANDS, HELP, command_object

app = typer.Typer(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False)

for _name in COMMANDS:
    _obj = command_object(_name)
    if isinstance(_obj, typer.Typer):
        app.add_typer(_obj, name=_name)
    else:
        app.command(_name)(_obj)
