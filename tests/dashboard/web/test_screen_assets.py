"""What a first page load pulls: the wall's index leaves out the other screens' scripts; static
scripts, styles and geometry come compressed once at the highest setting, every other reply
through the same one compression layer."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from fastapi import FastAPI, Response
from fastapi.testclient import TestClient

from dashboard.access.auth import Role
from dashboard.web import screen_index
from dashboard.runtime import Runtime
from dashboard.web.compression import ResponseCompression, accepted_encodings
from dashboard.web.screen_index import deferred, is_wall, without
from app import create_app
from tests.dashboard.auth_support import as_role

NOT_FOR_WALL = ("/dash/dcc/", "/dash/dash_table/", "/deps/polyfill@", "/assets/duty.", "/assets/tablet.")
FALLBACK_CSS = "/assets/fonts/noto-sans-sc.css"


def _client(rt: Runtime) -> TestClient:
    client = TestClient(create_app(rt).server)
    as_role(client, rt, Role.admin)
    return client


def _urls(page: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', page)


def test_the_wall_page_leaves_out_what_only_the_other_screens_use(runtime: Runtime, county: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(runtime)
    wall = client.get("/").text
    assert not [u for u in _urls(wall) if any(part in u for part in NOT_FOR_WALL)]
    assert any("/dash_leaflet/" in u for u in _urls(wall)) and any("/assets/live.js" in u for u in _urls(wall))
    for path in ("/tablet", "/duty"):  # without the app's lifespan Dash answers only "/": ask as if from there
        monkeypatch.setattr(screen_index, "request_path", lambda path=path: path)
        other = client.get("/").text
        for part in NOT_FOR_WALL:
            assert any(part in u for u in _urls(other)), f"{path} lost {part}"


def test_the_wall_holds_the_fallback_font_sheet_inert_and_the_other_screens_link_it(
        runtime: Runtime, county: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(runtime)
    wall = client.get("/").text
    held = re.search(r'<template id="font-fallback">(.*?)</template>', wall)
    assert held and FALLBACK_CSS in held.group(1)
    assert FALLBACK_CSS not in wall.replace(held.group(0), "")
    assert any("/assets/font_fallback.js" in u for u in _urls(wall))
    for path in ("/tablet", "/duty"):
        monkeypatch.setattr(screen_index, "request_path", lambda path=path: path)
        other = client.get("/").text
        assert "<template" not in other and any(FALLBACK_CSS in u for u in _urls(other)), path


def test_deferred_moves_matching_tags_into_one_template() -> None:
    tags = '<link rel="stylesheet" href="/a/x.css">\n<link rel="stylesheet" href="/a/f/y.css?m=1">'
    assert deferred(tags, ("/a/f/",)) == ('<link rel="stylesheet" href="/a/x.css">\n<template id="font-fallback">'
                                          '<link rel="stylesheet" href="/a/f/y.css?m=1"></template>')
    assert deferred(tags, ("/b/",)) == tags


def test_untyped_callback_replies_are_typed_json_and_brotli_compressed() -> None:
    inner = FastAPI()

    @inner.post("/_dash-update-component")
    def callback() -> Response:
        return Response(content='{"response": "' + "x" * 2000 + '"}')

    @inner.post("/other")
    def other() -> Response:
        return Response(content="y" * 2000)

    @inner.get("/api/live/stream")
    def stream() -> Response:
        return Response(content="data: " + "z" * 2000 + "\n\n", media_type="text/event-stream")

    inner.add_middleware(ResponseCompression)
    client = TestClient(inner)
    reply = client.post("/_dash-update-component", headers={"Accept-Encoding": "br"})
    assert reply.headers["content-type"] == "application/json" and reply.headers["content-encoding"] == "br"
    assert reply.json() == {"response": "x" * 2000}
    zipped = client.post("/_dash-update-component", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.json() == {"response": "x" * 2000}
    untouched = client.post("/other", headers={"Accept-Encoding": "br"})
    assert "content-type" not in untouched.headers and "content-encoding" not in untouched.headers
    events = client.get("/api/live/stream", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in events.headers, "event streams stay plain"


def test_wall_paths_and_tag_filter() -> None:
    assert is_wall("/") and is_wall("/screen") and is_wall("/screen/")
    assert not is_wall("/tablet") and not is_wall("/duty") and not is_wall(None)
    tags = '<script src="/a/dcc/x.js"></script>\n<script src="/a/html/y.js"></script>\n<script>inline()</script>'
    assert without(tags, ("/a/dcc/",)) == '<script src="/a/html/y.js"></script>\n<script>inline()</script>'


def test_static_scripts_are_brotli_at_quality_11_and_plain_for_others(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    script = next(u for u in _urls(client.get("/").text) if "/assets/live.js" in u)
    plain = client.get(script, headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    for _ in range(2):  # compressed once, then served from memory
        packed = client.get(script, headers={"Accept-Encoding": "gzip, br"})
        assert packed.headers["content-encoding"] == "br" and packed.headers["vary"] == "Accept-Encoding"
        assert packed.content == plain.content  # httpx decoded it
    raw = client.get(script, headers={"Accept-Encoding": "br"})
    assert raw.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    assert len(brotli.compress(plain.content, quality=11)) == int(raw.headers["content-length"])
    for _ in range(2):  # a client without brotli (plain-HTTP intranet address): gzip at level 9, also kept
        zipped = client.get(script, headers={"Accept-Encoding": "gzip, deflate"})
        assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
        assert len(gzip.compress(plain.content, 9, mtime=0)) == int(zipped.headers["content-length"])


def test_geometry_is_brotli_where_accepted(runtime: Runtime, county: str) -> None:
    client = _client(runtime)
    url = f"/api/geo/grids.geojson?county={county}"
    br, gz = client.get(url, headers={"Accept-Encoding": "br"}), client.get(url, headers={"Accept-Encoding": "gzip"})
    assert br.headers["content-encoding"] == "br" and gz.headers["content-encoding"] == "gzip"
    assert br.json() == gz.json()


def test_accept_encoding_parsing() -> None:
    assert accepted_encodings("gzip, deflate, br, zstd") == {"gzip", "deflate", "br", "zstd"}
    assert accepted_encodings("gzip;q=1.0, br;q=0") == {"gzip"}
    assert accepted_encodings("") == set()
