"""Sign-in with Redis away (issue 18 item 7): a served app answers 503 to a right and to a wrong
password alike (same body), never a 500 and never a different answer that would tell them apart
(sign-out too is a 503, not a 500); once Redis is back, the right password signs in again."""

from __future__ import annotations

import re

import httpx

from dashboard.access.auth import Role, hash_password
from data_access import users
from tests.faults.conftest import Stack
from tests.waiting import wait_until

PASSWORD = "correct horse battery staple"


def _form(client: httpx.Client, url: str) -> str:
    page = client.get(f"{url}/login?lang=en")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _attempt(client: httpx.Client, url: str, password: str) -> httpx.Response:
    return client.post(f"{url}/login", data={"csrf": _form(client, url), "name": "duty1", "password": password,
                                             "lang": "en"}, follow_redirects=False)


def test_sign_in_without_redis_is_503_for_a_right_and_a_wrong_password(stack: Stack) -> None:
    with stack.runtime.sessions() as session, session.begin():
        if users.get_user(session, "duty1") is None:
            users.create_user(session, name="duty1", role=Role.duty_officer.value, password_hash=hash_password(PASSWORD),
                              now=stack.runtime.clock(), county_code=stack.county)
    server = stack.server()
    with httpx.Client(timeout=30) as client:
        assert _attempt(client, server.url, "a wrong password").status_code == 401
        stack.redis.kill()
        right = _attempt(client, server.url, PASSWORD)
        wrong = _attempt(client, server.url, "a wrong password")
        unknown = client.post(f"{server.url}/login", data={"csrf": _form(client, server.url), "name": "nobody",
                                                           "password": PASSWORD, "lang": "en"}, follow_redirects=False)
        for answer in (right, wrong):
            assert answer.status_code == 503, answer.text[:300]
            assert answer.headers["retry-after"] == "30"
            assert "Sign-in is unavailable" in answer.text
            assert not any(c.startswith("mc_session=") for c in answer.headers.get_list("set-cookie"))
        assert right.text == wrong.text
        assert unknown.status_code == 503
        out = client.post(f"{server.url}/logout", data={"csrf": "whatever"}, cookies={"mc_session": "x" * 43},
                          follow_redirects=False)
        assert out.status_code == 503
        stack.redis.start()
        wait_until(lambda: _attempt(client, server.url, PASSWORD).status_code == 303, 30,
                   message="sign-in to work again once Redis is back")
