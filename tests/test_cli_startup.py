"""`xinyong` starts without importing every command (issue 13, item 5).

The installed command imports only the module of the command it runs, and for `xinyong --help`
none: the listing comes from ``xinyong.cli.COMMANDS``. These tests hold that table to the whole
application (same commands, same order, same help lines) and check what each start imports.
"""

from __future__ import annotations

import subprocess
import sys

import typer

from xinyong.cli import COMMANDS, app


def _first_paragraph(text: str | None) -> str:
    return (text or "").strip().split("\n\n")[0].strip()


def test_the_table_lists_the_commands_and_help_of_the_whole_application() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    assert list(group.commands) == list(COMMANDS)
    for name, (_, _, help_line) in COMMANDS.items():
        assert _first_paragraph(group.commands[name].help) == help_line, name


def _imported_by(*args: str) -> set[str]:
    """The modules a `xinyong ARGS` process has imported when it ends."""
    code = (
        "import sys\n"
        f"sys.argv = ['xinyong', *{list(args)!r}]\n"
        "from xinyong.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stderr.split())


def test_help_imports_no_command_and_no_database_library() -> None:
    modules = _imported_by("--help")
    assert not {m for m in modules if m.startswith("xinyong.") and m != "xinyong.cli"}
    assert "sqlalchemy" not in modules


def test_a_command_imports_its_own_module_only() -> None:
    modules = _imported_by("ingest", "--help")
    assert "xinyong.cli.ingest" in modules
    commands = {f"xinyong.cli.{module}" for module, _, _ in COMMANDS.values()}
    assert modules & commands == {"xinyong.cli.ingest"}
    assert "reportlab" not in modules  # the PDF renderer is for `xinyong report` only
