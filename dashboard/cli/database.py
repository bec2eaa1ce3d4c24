"""``db``: the database schema, brought to the current version by the migrations."""

from __future__ import annotations

import typer

from dashboard.cli.context import runtime
from data_access.migrate import upgrade as apply_migrations

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Apply migrations (safe to repeat)."""
    apply_migrations(runtime(ctx).settings.database_url)
    print("database schema is current")
