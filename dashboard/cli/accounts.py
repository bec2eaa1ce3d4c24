"""Who may reach the counties: people who sign in (``users``), wall screens and their display
tokens (``screens``) and source systems allowed to post (``sources``, also called ``clients``).
Each may be held to an area (``--area``: a county, a city or a province code) and then sees and
acts on nothing outside it. Every change is audited; a secret (password, token) is stored only as
a hash, so it is shown once, when it is made."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from dashboard.access.auth import USER_ROLES, Role, check_password_strength, hash_password, new_password
from dashboard.access.tokens import new_display_token, new_token, token_hash
from dashboard.cli.context import CLI_ROLE, actor, base_url, fail, runtime
from dashboard.domain.area_scope import contains, is_scope
from dashboard.domain.vocabulary import Source
from dashboard.runtime import Runtime
from data_access import api_clients, audit, regions
from data_access import users as people

users = typer.Typer(help="People who sign in.", no_args_is_help=True)
screens = typer.Typer(help="Wall screens and their display tokens.", no_args_is_help=True)
clients = typer.Typer(help="Source systems allowed to post (the same as `sources`).", no_args_is_help=True)
sources = typer.Typer(help="Source systems allowed to post, each held to an area or to none.", no_args_is_help=True)

UserRole = StrEnum("UserRole", [(role.name, role.value) for role in USER_ROLES])  # type: ignore[misc]
"""The roles a person may be given (not the screen's nor a source system's)."""

DEMO_ADMIN = "demo"
DEMO_SCREEN = "demo-wall"

Name = Annotated[str, typer.Argument(show_default=False)]
AREA_HELP = "a county, city or province code, e.g. 220283, 220200, 220000"


def checked_area(area: str | None) -> str | None:
    """``area`` when it may be given as an area (a county, city or province code); stops the
    command (exit 2) otherwise, before anything is opened."""
    if area is not None and not is_scope(area):
        fail(f"{area!r} is not a county, city or province code (six digits, e.g. 220283, 220200, 220000)")
    return area


def require_served(session: Session, rt: Runtime, area: str | None) -> None:
    """Stop the command (exit 2) when ``area`` holds no county this deployment serves: a typo would
    otherwise lock the person, wall or source system out without a word."""
    if area is not None and not any(contains(area, code) for code in regions.county_codes(session, rt.settings.area)):
        fail(f"no county of area {area} has been imported here (python -m dashboard county import)")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


@users.command("add")
def add_user(
    ctx: typer.Context,
    name: Name,
    role: Annotated[UserRole, typer.Option(help="what the person may open", show_default=False)],
    area: Annotated[str | None, typer.Option(
        "--area", help="hold the person to one county, city or province code, e.g. 220283, 220200, 220000 "
                       "(default: every area)")] = None,
    county: Annotated[str | None, typer.Option(help="the same as --area with a county code")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin",
                                                 help="read the password from standard input")] = False,
) -> None:
    """Add a person; the password is asked for (or read with --password-stdin). Held to an area,
    the person sees and acts on nothing outside it, on any screen or route."""
    if area is not None and county is not None and area != county:
        fail("give --area or --county, not two different areas")
    held = checked_area(area if area is not None else county)
    try:
        password = _read_password(password_stdin)
        check_password_strength(password)
    except ValueError as error:
        fail(str(error))
    rt = runtime(ctx)
    with rt.sessions() as session, session.begin():
        if people.get_user(session, name):
            fail(f"a user named {name!r} exists")
        require_served(session, rt, held)
        people.create_user(session, name=name, role=role.value, password_hash=hash_password(password),
                           now=rt.clock(), county_code=held)
        audit.record(session, actor=actor(), role=CLI_ROLE, action="user_create", target=f"user:{name}",
                     detail={"role": role.value, "area": held})
    print(f"user {name} ({role.value}{', area ' + held if held else ''}) added")


@users.command("disable")
def disable_user(ctx: typer.Context, name: Name) -> None:
    """Stop a person from signing in; open sessions end at their next request."""
    _retire(runtime(ctx), name, kind="user", find=people.get_user, stamp="disabled_at", verb="disabled",
            action="user_disable", after="their open sessions end at their next request",
            detail=lambda user: {"role": user.role})


@screens.command("add")
def add_screen(
    ctx: typer.Context,
    name: Name,
    area: Annotated[str | None, typer.Option(
        "--area", help=f"the area it shows and may show anything inside: {AREA_HELP} "
                       "(default: the deployment's county)")] = None,
    county: Annotated[str | None, typer.Option(help="the same as --area with a county code")] = None,
    base: Annotated[str | None, typer.Option("--base-url",
                                             help="where the screens are served (default: http://HOST:PORT)")] = None,
) -> None:
    """Register a wall screen and print its URL with the token once. Bound to a city or a province,
    the wall may show (?area=, ?county=, ?township=) anything inside it and nothing else."""
    if area is not None and county is not None and area != county:
        fail("give --area or --county, not two different areas")
    held = checked_area(area if area is not None else county)
    rt = runtime(ctx)
    held = held or rt.county_code()
    token = new_display_token()
    with rt.sessions() as session, session.begin():
        if people.get_screen(session, name):
            fail(f"a screen named {name!r} exists")
        require_served(session, rt, held)
        people.create_screen(session, name=name, county_code=held, token_hash=token_hash(token), now=rt.clock())
        audit.record(session, actor=actor(), role=CLI_ROLE, action="screen_create", target=f"screen:{name}",
                     detail={"county": held, "area": held})
    print(f"{base_url(rt, base)}/screen?token={token}")


@screens.command("revoke")
def revoke_screen(ctx: typer.Context, name: Name) -> None:
    """Stop a screen's token from working; an open wall is signed out at its next request."""
    _retire(runtime(ctx), name, kind="screen", find=people.get_screen, stamp="revoked_at", verb="revoked",
            action="screen_revoke", after="an open wall is signed out at its next request")


def _add_source(ctx: typer.Context, name: str, source: Source, area: str | None) -> None:
    """Register a source system held to ``area`` (``None``: every served county) and print its token once."""
    held = checked_area(area)
    rt = runtime(ctx)
    token = new_token()
    with rt.sessions() as session, session.begin():
        if api_clients.get_by_name(session, name):
            fail(f"a client named {name!r} exists")
        require_served(session, rt, held)
        api_clients.create(session, name=name, source=source.value, token_hash=token_hash(token), now=rt.clock(),
                           area_code=held)
        audit.record(session, actor=actor(), role=CLI_ROLE, action="client_create", target=f"client:{name}",
                     detail={"source": source.value, "area": held})
    print(token)


SourceOption = Annotated[Source, typer.Option(help="the source its cases count under", show_default=False)]
SourceArea = Annotated[str | None, typer.Option(
    "--area", help=f"hold it to one area, {AREA_HELP}: it reports and reads only cases inside "
                   "(default: every served county)")]


@clients.command("add")
def add_client(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="the source system's name", show_default=False)],
    source: SourceOption,
    area: SourceArea = None,
) -> None:
    """Register a source system and print its token once."""
    _add_source(ctx, name, source, area)


@sources.command("add")
def add_source(ctx: typer.Context, name: Name, source: SourceOption, area: SourceArea = None) -> None:
    """Register a source system and print its token once; held to an area, it reports and reads
    only cases inside it (anything else is answered 404)."""
    _add_source(ctx, name, source, area)


@clients.command("revoke")
def revoke_client(ctx: typer.Context, name: Name) -> None:
    """Stop a source system's token from working (at its next request)."""
    _retire(runtime(ctx), name, kind="client", find=api_clients.get_by_name, stamp="revoked_at", verb="revoked",
            action="client_revoke", after="its token is refused from its next request",
            detail=lambda client: {"source": client.source})


sources.command("revoke")(revoke_client)


def _retire(rt: Runtime, name: str, *, kind: str, find: Callable[[Session, str], Any], stamp: str, verb: str,
            action: str, after: str, detail: Callable[[Any], dict[str, object] | None] = lambda row: None) -> None:
    """Stamp a screen, user or client as revoked/disabled, audited; a second time changes nothing."""
    with rt.sessions() as session, session.begin():
        row = find(session, name)
        if row is None:
            fail(f"no {kind} named {name!r}")
        if getattr(row, stamp) is not None:
            print(f"{kind} {name} was already {verb}")
            return
        setattr(row, stamp, rt.clock())
        audit.record(session, actor=actor(), role=CLI_ROLE, action=action, target=f"{kind}:{name}",
                     detail=detail(row))
    print(f"{kind} {name} {verb}; {after}")


def demo_access(rt: Runtime) -> tuple[str, str]:
    """For ``make run``: a demo admin and a demo wall, with a fresh password and token on every start.

    Only hashes are stored, so the secrets cannot be shown again later; issuing new ones each
    start means the console always shows working ones (there is no fixed default password).
    """
    county = rt.county_code()
    password, token = new_password(), new_display_token()
    now = rt.clock()
    with rt.sessions() as session, session.begin():
        admin = people.get_user(session, DEMO_ADMIN)
        if admin is None:
            people.create_user(session, name=DEMO_ADMIN, role=Role.admin.value, password_hash=hash_password(password),
                               now=now)
            audit.record(session, actor=actor(), role=CLI_ROLE, action="user_create", target=f"user:{DEMO_ADMIN}",
                         detail={"role": Role.admin.value, "demo": True})
        else:
            admin.password_hash = hash_password(password)
            audit.record(session, actor=actor(), role=CLI_ROLE, action="password_reset", target=f"user:{DEMO_ADMIN}",
                         detail={"demo": True})
        wall = people.get_screen(session, DEMO_SCREEN)
        if wall is None:
            people.create_screen(session, name=DEMO_SCREEN, county_code=county, token_hash=token_hash(token), now=now)
            audit.record(session, actor=actor(), role=CLI_ROLE, action="screen_create", target=f"screen:{DEMO_SCREEN}",
                         detail={"county": county, "demo": True})
        else:
            wall.token_hash, wall.revoked_at, wall.county_code = token_hash(token), None, county
            audit.record(session, actor=actor(), role=CLI_ROLE, action="screen_token_reset",
                         target=f"screen:{DEMO_SCREEN}", detail={"demo": True})
    return password, token
