"""The HTML pages the server renders itself (sign-in, refusals, the audit log) come from jinja2
templates that escape whatever text they show and hold no inline script, so the CSP allows them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app import create_app
from dashboard.access.auth import Role
from dashboard.access.login_page import form_page
from dashboard.api.audit_view import audit_page
from dashboard.runtime import Runtime
from data_access import audit
from tests.dashboard.auth_support import as_role, served

HOSTILE = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


@pytest.fixture
def client(runtime: Runtime, county: str) -> Iterator[TestClient]:
    with served(create_app(runtime).server) as test_client:
        yield test_client


def _no_markup_from_text(page: str) -> None:
    """No script element at all: the hostile one did not get through, and we add none (CSP)."""
    assert "<script" not in page and ESCAPED in page


def test_the_audit_page_shows_a_hostile_name_as_text(runtime: Runtime, client: TestClient) -> None:
    with runtime.sessions() as session, session.begin():
        audit.record(session, actor=HOSTILE[:64], role="admin", action="assign", target=HOSTILE, detail=HOSTILE,
                     at=runtime.clock())
    as_role(client, runtime, Role.admin)
    page = client.get("/admin/audit?action=assign").text
    _no_markup_from_text(page)
    assert page.count(ESCAPED) == 3


def test_the_audit_page_keeps_its_filter_in_its_links() -> None:
    page = audit_page([], page=2, pages=3, total=120, action="a&b")
    assert 'href="/admin/audit?page=1&amp;action=a%26b"' in page
    assert 'href="/admin/audit?page=3&amp;action=a%26b"' in page
    assert "第 2/3 页" in page and "共 120 条" in page


def test_the_sign_in_form_echoes_a_hostile_name_and_address_as_text(client: TestClient) -> None:
    form = client.get("/login?next=/" + HOSTILE).text
    _no_markup_from_text(form)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    failed = client.post("/login", data={"csrf": csrf.group(1), "name": HOSTILE, "password": "wrong password 1"})
    assert failed.status_code == 401
    _no_markup_from_text(failed.text)
    assert f'<input id="name" name="name" value="{ESCAPED}"' in failed.text


def test_the_sign_in_form_is_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    zh, en = client.get("/login").text, client.get("/login?lang=en").text
    assert '<html lang="zh-CN">' in zh and "指挥中心登录" in zh and '<a href="/login?lang=en&amp;next=/">English</a>' in zh
    assert '<html lang="en">' in en and "Command centre sign-in" in en and 'name="lang" value="en"' in en
    for page in (zh, en):
        assert "<script" not in page and " style=" not in page and not re.search(r"\son[a-z]+=", page)


def test_the_form_carries_its_token_and_where_to_go_next() -> None:
    page = form_page("zh", csrf="tok_" + "a" * 40, next_path="/duty?lang=en", error="用户名或密码错误。").body.decode()
    assert f'<input type="hidden" name="csrf" value="tok_{"a" * 40}">' in page
    assert '<input type="hidden" name="next" value="/duty?lang=en">' in page
    assert '<p class="error" role="alert">用户名或密码错误。</p>' in page


def test_a_refusal_page_shows_the_address_asked_for_as_text(runtime: Runtime, client: TestClient) -> None:
    as_role(client, runtime, Role.leader)
    refused = client.get("/duty/" + HOSTILE, follow_redirects=False)
    assert refused.status_code == 403
    assert "<script" not in refused.text and "&lt;script&gt;" in refused.text and "无权访问此页面" in refused.text


def test_the_stylesheet_is_served_for_the_pages(client: TestClient) -> None:
    css = client.get("/login.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".login {" in css.text and ".audit table" in css.text
