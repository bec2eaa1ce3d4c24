"""The audit log: the record API, the CLI commands that write it, and the admin's views."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from dashboard.imports import case_import

from dashboard.cli import accounts, app as cli
from dashboard.access.auth import Role, verify_password
from dashboard.runtime import Runtime
from app import create_app
from dashboard.access.tokens import token_hash
from data_access import api_clients, audit, cases, users
from tests.dashboard.auth_support import as_role, served


def test_record_writes_one_entry_in_the_callers_transaction(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        entry = audit.record(session, actor="值班员甲", role="duty_officer", action="acknowledge", target="case:7",
                             detail={"note": "已电话联系"}, ip="10.0.0.8")
        assert entry.id is not None
    with runtime.sessions() as session, session.begin():
        audit.record(session, actor="x", role="admin", action="rolled_back")
        session.rollback()
    with runtime.sessions() as session:
        entries = audit.page(session)
    assert [e.action for e in entries] == ["acknowledge"]
    assert json.loads(entries[0].detail) == {"note": "已电话联系"} and entries[0].ip == "10.0.0.8"
    with runtime.sessions() as session, pytest.raises(ValueError):
        audit.record(session, actor="", role="admin", action="x")


def test_paging_is_newest_first(runtime: Runtime) -> None:
    with runtime.sessions() as session, session.begin():
        for n in range(7):
            audit.record(session, actor="a", role="admin", action="assign", target=f"case:{n}")
    with runtime.sessions() as session:
        assert [e.target for e in audit.page(session, offset=2, limit=3)] == ["case:4", "case:3", "case:2"]
        assert audit.count(session, action="assign") == 7 and audit.count(session, action="reveal") == 0


def _run(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.run(argv, runtime)


def test_cli_users_screens_and_clients_are_created_and_audited(runtime: Runtime, county: str,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(runtime, monkeypatch, "users", "add", "李值班", "--role", "duty_officer", "--password-stdin",
                stdin="correct horse battery\n") == 0
    assert _run(runtime, monkeypatch, "users", "add", "short", "--role", "leader", "--password-stdin",
                stdin="short\n") == 2
    assert _run(runtime, monkeypatch, "users", "add", "李值班", "--role", "admin", "--password-stdin",
                stdin="another long password\n") == 2
    assert _run(runtime, monkeypatch, "screens", "add", "大厅主屏", "--base-url", "https://cc.example") == 0
    assert _run(runtime, monkeypatch, "clients", "add", "--name", "12345热线", "--source", "hotline_12345") == 0
    out = capsys.readouterr().out.splitlines()
    screen_url = next(line for line in out if "/screen?token=" in line)
    assert screen_url.startswith("https://cc.example/screen?token=mcs_")
    with runtime.sessions() as session:
        user = users.get_user(session, "李值班")
        assert user is not None and user.role == "duty_officer" and verify_password(user.password_hash, "correct horse battery")
        assert users.get_user(session, "short") is None
        screen = users.active_screen(session, token_hash(screen_url.split("token=")[1]))
        assert screen is not None and screen.county_code == county
        assert api_clients.get_by_name(session, "12345热线") is not None
        actions = [(e.action, e.target, e.role) for e in reversed(audit.page(session))]
    assert actions == [("user_create", "user:李值班", "cli"), ("screen_create", "screen:大厅主屏", "cli"),
                       ("client_create", "client:12345热线", "cli")]
    assert _run(runtime, monkeypatch, "screens", "revoke", "大厅主屏") == 0
    with runtime.sessions() as session:
        assert users.active_screen(session, token_hash(screen_url.split("token=")[1])) is None


def test_cli_import_is_audited(runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = ("external_ref,source,category,received_at,grid_code,status\n"
            "IMP-1,walk_in,debt,2026-11-01T09:00:00+08:00,990101001001001,received\n")
    path = tmp_path / "cases.csv"
    path.write_text(rows, encoding="utf-8")
    _run(runtime, monkeypatch, "cases", "import", str(path))
    with runtime.sessions() as session:
        entry = audit.page(session, action="import")[0]
    assert entry.target == "file:cases.csv" and json.loads(entry.detail)["imported"] == 1
    path.write_text("external_ref\nIMP-2\n", encoding="utf-8")
    with pytest.raises(case_import.CaseImportError):
        _run(runtime, monkeypatch, "cases", "import", str(path))
    with runtime.sessions() as session:
        failed = json.loads(audit.page(session, action="import_failed")[0].detail)
    assert "cases.csv" in failed["error"]  # the reader's own message (a header it cannot use), with the file

    path.write_text(rows.replace("IMP-1", "IMP-3").replace("debt", "gossip"), encoding="utf-8")
    assert _run(runtime, monkeypatch, "cases", "import", str(path)) == 1
    with runtime.sessions() as session:
        assert json.loads(audit.page(session, action="import_refused")[0].detail) == {"rows": 1, "rejected": 1}


def test_an_import_whose_commit_fails_leaves_no_audit_entry_of_cases_that_never_landed(
    runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch, tmp_path  # type: ignore[no-untyped-def]
) -> None:
    """The import's audit entry is written in the import's own transaction: no cases, no entry."""
    path = tmp_path / "cases.csv"
    path.write_text("external_ref,source,category,received_at,grid_code,status\n"
                    "IMP-9,walk_in,debt,2026-11-01T09:00:00+08:00,990101001001001,received\n", encoding="utf-8")

    def refuse(session: object, counts: dict[str, int]) -> None:
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr(case_import, "push_contributions", lambda *a, **k: pytest.fail("nothing was committed"))
    with pytest.raises(RuntimeError):
        case_import.import_cases(runtime, path, audit=refuse)
    with runtime.sessions() as session:
        assert audit.page(session, action="import") == []
        assert cases.get_by_source_ref(session, "walk_in", "IMP-9") is None


def test_demo_access_issues_a_fresh_password_and_wall_link_each_start(runtime: Runtime, county: str) -> None:
    first_password, first_token = accounts.demo_access(runtime)
    second_password, second_token = accounts.demo_access(runtime)
    assert first_password != second_password and first_token != second_token
    with runtime.sessions() as session:
        admin = users.get_user(session, accounts.DEMO_ADMIN)
        assert admin is not None and admin.role == Role.admin.value
        assert verify_password(admin.password_hash, second_password)
        assert not verify_password(admin.password_hash, first_password)
        assert users.active_screen(session, token_hash(second_token)) is not None
        assert users.active_screen(session, token_hash(first_token)) is None


def test_admin_reads_the_log_as_a_page_and_as_json(runtime: Runtime, county: str) -> None:
    with runtime.sessions() as session, session.begin():
        for n in range(60):
            audit.record(session, actor="值班员甲", role="duty_officer", action="assign", target=f"case:{n}",
                         detail={"to": "<script>alert(1)</script>"}, at=datetime.now(UTC))
    with served(create_app(runtime).server) as client:
        as_role(client, runtime, Role.admin)
        page = client.get("/admin/audit")
        assert page.status_code == 200 and "第 1/2 页" in page.text and "case:59" in page.text
        assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
        assert "case:0<" in client.get("/admin/audit?page=2").text
        body = client.get("/api/audit?offset=0&limit=5").json()
        assert body["total"] == 60 and [e["target"] for e in body["entries"]][:2] == ["case:59", "case:58"]
