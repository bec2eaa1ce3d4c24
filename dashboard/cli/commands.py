"""``python -m dashboard …``: every operation a county's operator runs by hand or from make."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from shapely import to_geojson
from sqlalchemy.orm import Session

from dashboard.cases import cache_ops, demo, scheduler

from dashboard.imports import case_import, onboarding
from dashboard.access.auth import USER_ROLES, Role, check_password_strength, hash_password, new_password
from dashboard.api.outage import DATABASE_AWAY
from dashboard.domain.rules import DEFAULT_RULES_FILE, RulesError
from dashboard.runtime import NoCountyError, Runtime
from dashboard.settings import load_settings
from dashboard.access.tokens import new_display_token, new_token, token_hash
from dashboard.domain.vocabulary import Source
from data_access import aggregates, api_clients, audit, cases, users
from data_access.migrate import upgrade
from data_access.redis_connection import start_embedded_redis, stop_embedded_redis
from geo import sources
from geo.errors import CountyInputError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="area", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="verb", required=True)
    db.add_parser("upgrade", help="apply migrations (safe to repeat)")

    county = sub.add_parser("county", help="county boundaries and centres").add_subparsers(dest="verb", required=True)
    imp = county.add_parser("import", help="onboard a county from outline + township and village lists")
    imp.add_argument("--outline", type=Path, required=True, help="GeoJSON/GeoPackage/Shapefile of the county outline")
    imp.add_argument("--townships", type=Path, required=True, help="CSV: code,name[,type]")
    imp.add_argument("--villages", type=Path, required=True, help="CSV: code,name,parent_code[,type]")
    imp.add_argument("--crs", choices=("wgs84", "gcj02"), default="wgs84", help="datum of the outline and seat files")
    imp.add_argument("--seat", type=Path, help="point file with the county government seat")
    imp.add_argument("--name", help="county name (default: the outline's 'name' property)")
    imp.add_argument("--grids", type=int, default=1860, help="about how many grids to generate")
    county.add_parser("ensure-demo", help="import the demo county (Shulan) if the database has none")

    dm = sub.add_parser("demo", help="demo data").add_subparsers(dest="verb", required=True)
    back = dm.add_parser("backfill", help="write a realistic history")
    back.add_argument("--days", type=int, default=365)
    back.add_argument("--seed", type=int, default=20260101)
    lv = dm.add_parser("live", help="keep adding cases and state changes")
    lv.add_argument("--rate", type=float, default=1.0, help="changes per second on average")
    lv.add_argument("--limit", type=int, help="stop after this many changes")

    cs = sub.add_parser("cases", help="case lists").add_subparsers(dest="verb", required=True)
    ci = cs.add_parser("import", help="import a CSV/XLSX case list; all-or-nothing unless --skip-bad")
    ci.add_argument("file", type=Path, help="CSV (UTF-8) or XLSX: external_ref, source, category, received_at, ...")
    ci.add_argument("--skip-bad", action="store_true", help="import the good rows, skip the bad ones")
    ci.add_argument("--report", type=Path, help="row-error report (default: <name>.errors.csv next to FILE)")

    clients = sub.add_parser("clients", help="source systems allowed to post").add_subparsers(dest="verb", required=True)
    add = clients.add_parser("add", help="register a source system and print its token once")
    add.add_argument("--name", required=True)
    add.add_argument("--source", required=True, choices=[s.value for s in Source])
    clients.add_parser("revoke", help="stop a source system's token from working (at its next request)").add_argument(
        "name")

    people = sub.add_parser("users", help="people who sign in").add_subparsers(dest="verb", required=True)
    user_add = people.add_parser("add", help="add a person; the password is asked for (or read with --password-stdin)")
    user_add.add_argument("name")
    user_add.add_argument("--role", required=True, choices=[r.value for r in USER_ROLES])
    user_add.add_argument("--county", help="limit the person to one county (default: any)")
    user_add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    people.add_parser("disable", help="stop a person from signing in; open sessions end at their next request"
                      ).add_argument("name")

    screens = sub.add_parser("screens", help="wall screens and their display tokens").add_subparsers(
        dest="verb", required=True)
    screen_add = screens.add_parser("add", help="register a wall screen and print its URL with the token once")
    screen_add.add_argument("name")
    screen_add.add_argument("--county", help="the county it shows (default: the only county imported)")
    screen_add.add_argument("--base-url", help="where the screens are served (default: http://HOST:PORT)")
    screens.add_parser("revoke", help="stop a screen's token from working; an open wall is signed out at its "
                       "next request").add_argument("name")

    sched = sub.add_parser("scheduler", help="deadlines: relevel alerts, supervise and escalate late cases")
    sched.add_subparsers(dest="verb", required=True).add_parser("tick", help="one pass now (for cron)")

    serve = sub.add_parser("serve", help="serve the screens and the API with uvicorn")
    serve.add_argument("--demo-feed", type=float, metavar="RATE", help="also run the live demo feed at RATE changes/s")
    serve.add_argument("--workers", type=int, default=1)

    cache = sub.add_parser("cache", help="Redis aggregates").add_subparsers(dest="verb", required=True)
    cache.add_parser("rebuild", help="recompute every aggregate from SQL")
    cache.add_parser("reconcile", help="compare Redis with SQL; exit 1 on any difference")

    fonts = sub.add_parser("fonts", help="the wall's web font").add_subparsers(dest="verb", required=True)
    fs = fonts.add_parser("subset", help="rebuild the wall's font subset and assets/fonts.css (after label changes)")
    fs.add_argument("--names", type=Path, help="folder of the county's CSV/GeoJSON files whose names the wall shows "
                                              "(default: the demo county)")
    return parser


CLI_ROLE = "cli"
"""Audit role of whoever runs these commands at the server's console."""
DEMO_ADMIN = "demo"
DEMO_SCREEN = "demo-wall"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _base_url(rt: Runtime, given: str | None = None) -> str:
    if given:
        return given.rstrip("/")
    host = "127.0.0.1" if rt.settings.host in ("0.0.0.0", "::", "") else rt.settings.host
    return f"http://{host}:{rt.settings.port}"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _add_user(rt: Runtime, args: argparse.Namespace) -> int:
    try:
        password = _read_password(args.password_stdin)
        check_password_strength(password)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with rt.sessions() as session, session.begin():
        if users.get_user(session, args.name):
            print(f"error: a user named {args.name!r} exists", file=sys.stderr)
            return 2
        users.create_user(session, name=args.name, role=args.role, password_hash=hash_password(password),
                          now=datetime.now(UTC), county_code=args.county)
        audit.record(session, actor=_actor(), role=CLI_ROLE, action="user_create", target=f"user:{args.name}",
                     detail={"role": args.role, "county": args.county})
    print(f"user {args.name} ({args.role}) added")
    return 0


def _add_screen(rt: Runtime, args: argparse.Namespace) -> int:
    county = args.county or rt.county_code()
    token = new_display_token()
    with rt.sessions() as session, session.begin():
        if users.get_screen(session, args.name):
            print(f"error: a screen named {args.name!r} exists", file=sys.stderr)
            return 2
        users.create_screen(session, name=args.name, county_code=county, token_hash=token_hash(token),
                            now=datetime.now(UTC))
        audit.record(session, actor=_actor(), role=CLI_ROLE, action="screen_create", target=f"screen:{args.name}",
                     detail={"county": county})
    print(f"{_base_url(rt, args.base_url)}/screen?token={token}")
    return 0


def _retire(rt: Runtime, name: str, *, kind: str, find: Callable[[Session, str], Any], stamp: str, verb: str,
            action: str, after: str, detail: Callable[[Any], dict[str, object] | None] = lambda row: None) -> int:
    """Stamp a screen, user or client as revoked/disabled, audited; a second time changes nothing."""
    with rt.sessions() as session, session.begin():
        row = find(session, name)
        if row is None:
            print(f"error: no {kind} named {name!r}", file=sys.stderr)
            return 2
        if getattr(row, stamp) is not None:
            print(f"{kind} {name} was already {verb}")
            return 0
        setattr(row, stamp, datetime.now(UTC))
        audit.record(session, actor=_actor(), role=CLI_ROLE, action=action, target=f"{kind}:{name}",
                     detail=detail(row))
    print(f"{kind} {name} {verb}; {after}")
    return 0


def _revoke_screen(rt: Runtime, name: str) -> int:
    return _retire(rt, name, kind="screen", find=users.get_screen, stamp="revoked_at", verb="revoked",
                   action="screen_revoke", after="an open wall is signed out at its next request")


def _disable_user(rt: Runtime, name: str) -> int:
    return _retire(rt, name, kind="user", find=users.get_user, stamp="disabled_at", verb="disabled",
                   action="user_disable", after="their open sessions end at their next request",
                   detail=lambda user: {"role": user.role})


def _revoke_client(rt: Runtime, name: str) -> int:
    return _retire(rt, name, kind="client", find=api_clients.get_by_name, stamp="revoked_at", verb="revoked",
                   action="client_revoke", after="its token is refused from its next request",
                   detail=lambda client: {"source": client.source})


def demo_access(rt: Runtime) -> tuple[str, str]:
    """For ``make run``: a demo admin and a demo wall, with a fresh password and token on every start.

    Only hashes are stored, so the secrets cannot be shown again later; issuing new ones each
    start means the console always shows working ones (there is no fixed default password).
    """
    county = rt.county_code()
    password, token = new_password(), new_display_token()
    now = datetime.now(UTC)
    with rt.sessions() as session, session.begin():
        admin = users.get_user(session, DEMO_ADMIN)
        if admin is None:
            users.create_user(session, name=DEMO_ADMIN, role=Role.admin.value, password_hash=hash_password(password),
                              now=now)
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="user_create", target=f"user:{DEMO_ADMIN}",
                         detail={"role": Role.admin.value, "demo": True})
        else:
            admin.password_hash = hash_password(password)
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="password_reset", target=f"user:{DEMO_ADMIN}",
                         detail={"demo": True})
        wall = users.get_screen(session, DEMO_SCREEN)
        if wall is None:
            users.create_screen(session, name=DEMO_SCREEN, county_code=county, token_hash=token_hash(token), now=now)
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="screen_create", target=f"screen:{DEMO_SCREEN}",
                         detail={"county": county, "demo": True})
        else:
            wall.token_hash, wall.revoked_at, wall.county_code = token_hash(token), None, county
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="screen_token_reset",
                         target=f"screen:{DEMO_SCREEN}", detail={"demo": True})
    return password, token


DEMO_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "shulan"


def _import(rt: Runtime, *, outline: Path, townships: Path, villages: Path, crs: str, seat: Path | None,
            name: str | None, grids: int) -> int:
    generated = onboarding.load_county_files(outline=outline, townships=townships, villages=villages, crs=crs,
                                             seat=seat, grid_target=grids)
    outline_shape = sources.read_outline(outline, crs=crs)
    county_name = name or sources.read_outline_name(outline) or onboarding.county_code_of(generated)
    with rt.sessions() as session, session.begin():
        report = onboarding.save_county(session, generated, name=county_name, now=datetime.now(UTC),
                                        outline_geojson=to_geojson(outline_shape))
        audit.record(session, actor=_actor(), role=CLI_ROLE, action="county_import", target=f"county:{report.county_code}",
                     detail={"name": county_name, "outline": outline.name, "townships": report.townships,
                             "villages": report.villages, "grids": report.grids, "centers": report.centers,
                             "removed_grids": report.removed_grids, "crs": crs})
    print(f"county {report.county_code} {county_name}: {report.townships} townships, {report.villages} villages, "
          f"{report.grids} grids (generated), {report.centers} centres; {report.removed_grids} stale grids removed")
    return 0


def _demo_files() -> dict[str, Path]:
    base = DEMO_DIR
    return dict(outline=base / "shulan_220283_county_wgs84.geojson", townships=base / "shulan_220283_townships.csv",
                villages=base / "shulan_220283_villages.csv", seat=base / "shulan_220283_seat_wgs84.geojson")


def run(args: argparse.Namespace, rt: Runtime) -> int:
    if args.area == "db":
        upgrade(rt.settings.database_url)
        print("database schema is current")
        return 0
    if args.area == "county" and args.verb == "import":
        return _import(rt, outline=args.outline, townships=args.townships, villages=args.villages, crs=args.crs,
                       seat=args.seat, name=args.name, grids=args.grids)
    if args.area == "county" and args.verb == "ensure-demo":
        try:
            rt.county_code()
            print("a county is already imported")
            return 0
        except NoCountyError:
            return _import(rt, crs="wgs84", name=None, grids=1860, **_demo_files())
    if args.area == "demo" and args.verb == "backfill":
        written = demo.backfill(rt.cases, days=args.days, seed=args.seed)
        print(f"backfilled {written} cases")
        return 0
    if args.area == "demo" and args.verb == "live":
        print(f"live feed: about {args.rate} changes per second (Ctrl-C stops)", flush=True)
        demo.live(rt.cases, rate=args.rate, limit=args.limit)
        return 0
    if args.area == "cases":
        target = f"file:{args.file.name}"

        def record(session: Session, counts: dict[str, int]) -> None:
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="import", target=target,
                         detail={**counts, "skip_bad": args.skip_bad})

        try:
            result = case_import.import_cases(rt, args.file, all_or_nothing=not args.skip_bad,
                                              report_path=args.report, progress=sys.stderr.isatty(), audit=record)
        except case_import.CaseImportError as error:
            with rt.sessions() as session, session.begin():
                audit.record(session, actor=_actor(), role=CLI_ROLE, action="import_failed", target=target,
                             detail={"error": str(error)[:500]})
            raise
        refused = result.rejected and not args.skip_bad
        if refused:
            with rt.sessions() as session, session.begin():
                audit.record(session, actor=_actor(), role=CLI_ROLE, action="import_refused", target=target,
                             detail={"rows": result.rows, "rejected": result.rejected})
        print(f"{result.rows} rows: {result.imported} imported, {result.duplicates} already present, "
              f"{result.rejected} rejected ({result.seconds:.1f} s)")
        if result.report_path:
            print(f"row errors: {result.report_path}" + ("; nothing was written" if refused else ""), file=sys.stderr)
        if result.aggregates_behind:
            print("the cases are stored, but Redis did not take their figures: the screens miss them until "
                  "`python -m dashboard cache rebuild`", file=sys.stderr)
        return result.exit_code
    if args.area == "clients" and args.verb == "revoke":
        return _revoke_client(rt, args.name)
    if args.area == "clients":
        token = new_token()
        with rt.sessions() as session, session.begin():
            if api_clients.get_by_name(session, args.name):
                print(f"error: a client named {args.name!r} exists", file=sys.stderr)
                return 2
            api_clients.create(session, name=args.name, source=args.source, token_hash=token_hash(token),
                               now=datetime.now(UTC))
            audit.record(session, actor=_actor(), role=CLI_ROLE, action="client_create", target=f"client:{args.name}",
                         detail={"source": args.source})
        print(token)
        return 0
    if args.area == "users" and args.verb == "disable":
        return _disable_user(rt, args.name)
    if args.area == "users":
        return _add_user(rt, args)
    if args.area == "screens" and args.verb == "add":
        return _add_screen(rt, args)
    if args.area == "screens":
        return _revoke_screen(rt, args.name)
    if args.area == "scheduler":
        report = scheduler.tick(rt)
        print(report)
        return 0
    if args.area == "serve":
        return _serve(rt, feed_rate=args.demo_feed, workers=args.workers)
    if args.area == "fonts":
        return _fonts_subset(args.names)
    county = rt.county_code()
    with rt.sessions() as session:
        if args.verb == "rebuild":
            report = cache_ops.rebuild(session, rt.redis_admin, county, rt.rules)
            with rt.sessions() as log_session, log_session.begin():
                audit.record(log_session, actor=_actor(), role=CLI_ROLE, action="cache_rebuild",
                             target=f"county:{county}", detail={"cases": report.cases, "version": report.version})
            print(f"rebuilt {report.cases} cases ({report.open_cases} open, {report.days} days) "
                  f"in {report.seconds:.2f} s; version {report.version}")
            return 0
        diffs = cache_ops.reconcile(session, rt.redis, county, rt.rules)
        total = cases.count(session, county)
    for diff in diffs[:50]:
        print(diff)
    print(f"{len(diffs)} differences over {total} cases (aggregate version {aggregates.version(rt.redis, county)})")
    return 1 if diffs else 0


def _fonts_subset(names: Path | None) -> int:
    """Imported here: fontTools is needed only to cut the font, never to serve."""
    from dashboard.web import font_subset

    try:
        report = font_subset.regenerate(names or font_subset.DEMO_DATA)
    except font_subset.FontSubsetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sizes = ", ".join(f"{name} {size / 1024:.1f} KB" for name, size in report.files.items())
    print(f"{report.characters} characters: {sizes}; assets/fonts.css rewritten ({report.seconds:.1f} s)")
    return 0


RULES_CHANGED = "config.rules_changed"


def record_rules_file(rt: Runtime) -> bool:
    """At start-up, an audit entry when the rules file (deadlines, alert thresholds) differs from the
    one the last start recorded: a changed threshold changes every screen, so it must be traceable."""
    path = rt.settings.rules_file or DEFAULT_RULES_FILE
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with rt.sessions() as session, session.begin():
        last = audit.latest(session, action=RULES_CHANGED)
        previous = audit.detail_of(last).get("sha256") if last else None
        if previous == digest:
            return False
        audit.record(session, actor=_actor(), role=CLI_ROLE, action=RULES_CHANGED, target=f"file:{path.name}",
                     detail={"sha256": digest, "previous": previous, "path": str(path)})
    return True


def _serve(rt: Runtime, *, feed_rate: float | None, workers: int) -> int:
    """Run uvicorn in this process and, for the demo, the live feed as a child process."""
    try:
        if record_rules_file(rt):
            print("rules file changed since the last start: recorded in the audit log", flush=True)
    except DATABASE_AWAY as error:
        logging.getLogger(__name__).warning("rules file not checked against the audit log: %s", type(error).__name__)
    env = dict(os.environ)
    embedded = rt.settings.redis_url is None
    if embedded:
        # Every process must share one embedded Redis: start it here and hand its URL down.
        env["REDIS_URL"] = os.environ["REDIS_URL"] = start_embedded_redis(rt.settings.var_dir)
    feed = None
    if feed_rate:
        password, token = demo_access(rt)
        base = _base_url(rt)
        print(f"demo wall screen (no sign-in):  {base}/screen?token={token}\n"
              f"demo sign-in:  {base}/login  user {DEMO_ADMIN}  password {password}\n"
              "(a new password and wall link are issued on every start)", flush=True)
        feed = subprocess.Popen([sys.executable, "-m", "dashboard", "demo", "live", "--rate", str(feed_rate)], env=env)
    try:
        print(f"serving http://{rt.settings.host}:{rt.settings.port}/", flush=True)
        # Screens hold event streams open; do not wait for them on shutdown, they reconnect.
        uvicorn.run("app:server", host=rt.settings.host, port=rt.settings.port, workers=workers, log_level="info",
                    timeout_graceful_shutdown=2)
    finally:
        if feed is not None:
            feed.terminate()
            feed.wait(timeout=10)
        if embedded:  # leave no server behind; any later command starts it again
            stop_embedded_redis(rt.settings.var_dir)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = _parser().parse_args(argv)
    try:
        rt = Runtime(load_settings())
    except (ValueError, RulesError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        return run(args, rt)
    except (CountyInputError, NoCountyError, RulesError, case_import.CaseImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        rt.close()
