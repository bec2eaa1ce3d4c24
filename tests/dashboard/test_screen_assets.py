"""What a first page load pulls: the wall's index leaves out the other screens' scripts, and static
scripts, styles and geometry come brotli-compressed once at quality 11."""

from __future__ import annotations

import re

import brotli
import pytest
from fastapi.testclient import TestClient

from dashboard.auth import Role
from dashboard import screen_index
from dashboard.runtime import Runtime
from dashboard.screen_index import is_wall, without
from dashboard.server import create_app
from dashboard.static_brotli import accepted_encodings
from tests.dashboard.auth_support import as_role

NOT_FOR_WALL = ("/dash/dcc/", "/dash/dash_table/", "/deps/polyfill@", "/assets/duty.", "/assets/tablet.")


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
