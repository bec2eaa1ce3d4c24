"""``audit``: the audit log's hash chain, checked from the first entry to the last."""

from __future__ import annotations

import typer

from dashboard.cli.context import runtime
from data_access import audit

app = typer.Typer(help="The audit log.", no_args_is_help=True)


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """Recompute every entry's hash and link; name the first broken entry and exit 1 on a break.

    On success it prints the head hash: written down (or sent off this server), it pins the log as
    it stands, since no one can rewrite an entry before it without changing it."""
    rt = runtime(ctx)
    with rt.sessions() as session:
        found = audit.verify(session)
    if found.broken is not None:
        print(f"audit chain BROKEN: {found.broken.describe()} ({found.checked} entries read)")
        raise typer.Exit(1)
    print(f"audit chain intact: {found.checked} entries; head hash {found.head_hash}")
