"""A person is held to an area from the command line (``users add --area`` or ``--county``), and a
session is held to the area its user has: moving the user to another area ends it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.cli import app as cli
from dashboard.runtime import Runtime
from data_access import api_clients, audit, users
from tests.dashboard.auth_support import as_role, served

PASSWORD = "correct horse battery\n"


def _add(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, name: str, *options: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    return cli.run(["users", "add", name, "--role", "leader", "--password-stdin", *options], runtime)


def test_users_are_held_to_a_county_city_or_province_that_holds_an_imported_county(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    city, province = county[:4] + "00", county[:2] + "0000"
    assert _add(runtime, monkeypatch, "县领导", "--county", county) == 0
    assert _add(runtime, monkeypatch, "市领导", "--area", city) == 0
    assert _add(runtime, monkeypatch, "省领导", "--area", province, "--county", province) == 0
    assert _add(runtime, monkeypatch, "全域管理", ) == 0
    refused = {"邻县": ["--area", "990202"], "乡镇": ["--area", county + "001"], "短码": ["--area", county[:5]],
               "字母": ["--area", "99O101"], "两个": ["--area", county, "--county", city]}
    for name, options in refused.items():
        assert _add(runtime, monkeypatch, name, *options) == 2, name
    errors = capsys.readouterr().err
    assert "no county of area 990202" in errors and "is not a county, city or province code" in errors
    with runtime.sessions() as session:
        held = {u: users.get_user(session, u) for u in ("县领导", "市领导", "省领导", "全域管理", *refused)}
        assert {u: user.county_code for u, user in held.items() if user} == {
            "县领导": county, "市领导": city, "省领导": province, "全域管理": None}
        details = [audit.detail_of(e)["area"] for e in reversed(audit.page(session, action="user_create"))]
    assert details == [county, city, province, None]


@pytest.fixture
def app_client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as client:
        yield client


@pytest.mark.parametrize("moved_to", ["990100", None, "990202"])
def test_a_session_ends_when_its_user_is_moved_to_another_area(runtime: Runtime, county: str,
                                                               app_client: TestClient, moved_to: str | None) -> None:
    as_role(app_client, runtime, Role.leader, county=county, name="县领导")
    assert app_client.get("/api/alerts").status_code == 200
    with runtime.sessions() as session, session.begin():
        user = users.get_user(session, "县领导")
        assert user is not None
        user.county_code = moved_to
    assert app_client.get("/api/alerts").status_code == 401, "the session's area is no longer the user's"


def test_sources_and_walls_are_held_to_a_county_city_or_province_from_the_command_line(
        runtime: Runtime, county: str, capsys: pytest.CaptureFixture[str]) -> None:
    city, province = county[:4] + "00", county[:2] + "0000"
    assert cli.run(["sources", "add", "市热线", "--source", "hotline_12345", "--area", city], runtime) == 0
    assert cli.run(["clients", "add", "--name", "县网格", "--source", "grid_report", "--area", county], runtime) == 0
    assert cli.run(["sources", "add", "全域在线", "--source", "online"], runtime) == 0
    assert cli.run(["screens", "add", "市大屏", "--area", city], runtime) == 0
    assert cli.run(["screens", "add", "省大屏", "--area", province], runtime) == 0
    assert cli.run(["screens", "add", "县大屏", "--county", county], runtime) == 0
    refused = (["sources", "add", "邻县热线", "--source", "online", "--area", "990202"],
               ["sources", "add", "乡镇热线", "--source", "online", "--area", county + "001"],
               ["sources", "add", "字母热线", "--source", "online", "--area", "99O101"],
               ["screens", "add", "邻县大屏", "--area", "990202"],
               ["screens", "add", "短码大屏", "--area", "2202"],
               ["screens", "add", "两个大屏", "--area", county, "--county", city])
    for argv in refused:
        assert cli.run(argv, runtime) == 2, argv
    errors = capsys.readouterr().err
    assert "no county of area 990202" in errors and "is not a county, city or province code" in errors
    with runtime.sessions() as session:
        areas = {name: (client.area_code if client else "missing") for name in ("市热线", "县网格", "全域在线", "邻县热线")
                 for client in [api_clients.get_by_name(session, name)]}
        walls = {name: (screen.county_code if screen else "missing") for name in ("市大屏", "省大屏", "县大屏", "邻县大屏")
                 for screen in [users.get_screen(session, name)]}
        created = [audit.detail_of(e)["area"] for e in reversed(audit.page(session, action="client_create"))]
    assert areas == {"市热线": city, "县网格": county, "全域在线": None, "邻县热线": "missing"}
    assert walls == {"市大屏": city, "省大屏": province, "县大屏": county, "邻县大屏": "missing"}
    assert created == [city, county, None]
