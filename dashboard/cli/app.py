"""``python -m dashboard …``: the root command, its nouns, and the two ways to run it.

``main`` is the console's entry: an operator's mistake (bad option, bad file, no county yet) is a
message on stderr and exit code 2, never a traceback. ``run`` is for callers in this process
(tests): it takes their runtime and lets the operator errors through as exceptions."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import typer
from typer import rich_utils

from dashboard.cli import accounts, cache, cases, county, database, demo, fonts, region, scheduler, serving
from dashboard.cli import reports as report_commands
from dashboard.cli import audit as audit_commands
from dashboard.cli import warnings as warning_commands
from dashboard.cli.context import CliState
from dashboard.domain.rules import RulesError
from dashboard.imports.case_import import CaseImportError
from dashboard.runtime import NoCountyError, Runtime
from geo.errors import CountyInputError

PROG = "python -m dashboard"

app = typer.Typer(name=PROG, help="Every operation a county's operator runs by hand or from make.",
                  no_args_is_help=True, add_completion=False)
app.add_typer(database.app, name="db")
app.add_typer(county.app, name="county")
app.add_typer(region.city, name="city")
app.add_typer(region.province, name="province")
app.add_typer(demo.app, name="demo")
app.add_typer(cases.app, name="cases")
app.add_typer(accounts.clients, name="clients")
app.add_typer(accounts.sources, name="sources")
app.add_typer(accounts.users, name="users")
app.add_typer(accounts.screens, name="screens")
app.add_typer(scheduler.app, name="scheduler")
app.command("serve")(serving.serve)
app.add_typer(cache.app, name="cache")
app.add_typer(fonts.app, name="fonts")
app.add_typer(report_commands.app, name="reports")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(warning_commands.app, name="warnings")

OPERATOR_ERRORS = (CountyInputError, NoCountyError, RulesError, CaseImportError)
"""Errors that mean the input or the setup is wrong, not the program: told in one line, exit 2."""


def run(argv: Sequence[str], runtime: Runtime | None = None) -> int:
    """Run one command line in this process and return its exit code.

    ``runtime`` is used (and left open) when given; otherwise one is built from the settings when a
    command needs it and closed at the end. Usage errors raise ``typer.TyperException`` and the
    operator errors above propagate, so the caller decides how to show them."""
    state = CliState(runtime)
    try:
        result = typer.main.get_command(app).main(args=list(argv), prog_name=PROG, standalone_mode=False,
                                                   obj=state)
    finally:
        state.close()
    return result if isinstance(result, int) else 0


def main(argv: Sequence[str] | None = None) -> int:
    """The console entry: run ``argv`` (default: the process arguments) and return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except typer.TyperException as error:  # usage: unknown option, missing argument, bad choice
        rich_utils.rich_format_error(error)
        return error.exit_code
    except typer.Abort:
        rich_utils.rich_abort_error()
        return 1
    except OPERATOR_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
