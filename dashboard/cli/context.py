"""What every command shares: the runtime (built from the settings on first use), the actor the
audit log names, and how a command reports an error with its exit code."""

from __future__ import annotations

import getpass
import sys
from typing import NoReturn

import typer

from dashboard.runtime import Runtime
from dashboard.settings import load_settings

CLI_ROLE = "cli"
"""Audit role of whoever runs these commands at the server's console."""


class CliState:
    """The runtime of one command line: handed in by an in-process caller (then the caller closes
    it), or built from the settings when a command first needs one and closed when it ends. Help
    and usage errors never build one, so they need neither a database nor Redis."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime
        self._owned = False

    def runtime(self) -> Runtime:
        if self._runtime is None:
            try:
                self._runtime = Runtime(load_settings())
            except ValueError as error:
                fail(str(error))
            self._owned = True
        return self._runtime

    def close(self) -> None:
        """Close the runtime if this state built it; safe to call twice."""
        if self._owned and self._runtime is not None:
            self._runtime.close()
            self._runtime = None
            self._owned = False


def runtime(ctx: typer.Context) -> Runtime:
    """The command line's runtime: the one handed in, or one built now and closed with the command."""
    state = ctx.find_object(CliState)
    if state is None:
        root = ctx.find_root()
        state = root.obj = CliState()
        root.call_on_close(state.close)
    return state.runtime()


def actor() -> str:
    """Who the audit log says ran the command: the operating-system user at the console."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and end the command with ``code``."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def base_url(rt: Runtime, given: str | None = None) -> str:
    """Where the screens are served: ``given``, or http://HOST:PORT of the settings (a wildcard
    host becomes 127.0.0.1, which a browser on this machine can open)."""
    if given:
        return given.rstrip("/")
    host = "127.0.0.1" if rt.settings.host in ("0.0.0.0", "::", "") else rt.settings.host
    return f"http://{host}:{rt.settings.port}"
