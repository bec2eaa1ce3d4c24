"""The sign-in page and sign-out: server-rendered HTML (``templates/login.html``), no script,
Chinese by default, English with ``?lang=en``.

The form is protected by a double-submit token (a cookie and a hidden field that must match);
signing in replaces any earlier session, so a session id planted before sign-in is worthless.
Attempts are rate-limited per address and per name (``SecurityConfig.login_per_ip``/``login_per_name``).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dashboard.access.auth import Principal, Role, dummy_verify, end_session, load_session, start_session, verify_password
from dashboard.access.cookies import SESSION_COOKIE, clear_session_cookies, delete_cookie, set_cookie, set_session_cookies
from dashboard.access.csrf import LOGIN_CSRF_COOKIE, header_token, same_token
from dashboard.access.pages import render, stylesheet
from dashboard.access.rate_limits import RateLimiter
from dashboard.access.tokens import TOKEN_SHAPE
from data_access import audit, users

if TYPE_CHECKING:
    from dashboard.access.security import SecurityConfig
    from dashboard.runtime import Runtime

MAX_FORM = 8192
TEXT = {
    "zh": {"title": "登录 · 矛盾纠纷调处化解指挥中心", "heading": "指挥中心登录", "name": "用户名", "password": "密码",
           "submit": "登录", "failed": "用户名或密码错误。", "limited": "尝试次数过多，请 {s} 秒后再试。",
           "expired": "页面已过期，请重新提交。", "other": "English", "signed_out": "已退出登录。",
           "screen_hint": "大屏请使用管理员发放的屏幕链接（/screen?token=…），无需登录。"},
    "en": {"title": "Sign in · Dispute-resolution command centre", "heading": "Command centre sign-in",
           "name": "User name", "password": "Password", "submit": "Sign in", "failed": "Wrong user name or password.",
           "limited": "Too many attempts; try again in {s} s.", "expired": "The form expired; please submit it again.",
           "other": "中文", "signed_out": "You have signed out.",
           "screen_hint": "Wall screens use the screen link issued by an administrator (/screen?token=…); no sign-in."},
}


def safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would turn our sign-in page into a phishing aid."""
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(c) < 32 or ord(c) == 127 for c in target)):  # browsers drop tabs: "/\t/x" is "//x"
        return "/"
    return target if target != "/login" and not target.startswith("/login?") else "/"


def language(request: Request, form: dict[str, str] | None = None) -> str:
    lang = (form or {}).get("lang") or request.query_params.get("lang", "zh")
    return lang if lang in TEXT else "zh"


def form_page(lang: str, *, csrf: str, next_path: str, name: str = "", error: str = "", status: int = 200) -> HTMLResponse:
    """The sign-in form in ``lang``, with the form token, where to go next, the name typed and an error."""
    page = render("login.html", lang=lang, other="en" if lang == "zh" else "zh", t=TEXT[lang], csrf=csrf,
                  next_path=next_path, name=name, error=error)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


async def read_form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > MAX_FORM:
        return {}
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return {}


def build_login_router(rt: Runtime, config: SecurityConfig) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    limiter = RateLimiter(rt.redis, config.rate_clock(rt))

    def https(request: Request) -> bool:
        return request.url.scheme == "https"

    def fresh_form(request: Request, lang: str, *, next_path: str, name: str = "", error: str = "",
                   status: int = 200) -> HTMLResponse:
        """The form with the browser's current form token (a new one only if it has none): a second
        tab, or the browser's own /favicon.ico request, must not invalidate a form already shown."""
        held = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        csrf = held if TOKEN_SHAPE.fullmatch(held) else secrets.token_urlsafe(32)
        response = form_page(lang, csrf=csrf, next_path=next_path, name=name, error=error, status=status)
        if csrf != held:
            set_cookie(response, LOGIN_CSRF_COOKIE, csrf, https=https(request))
        return response

    @router.get("/login.css")
    def login_css() -> Response:
        return Response(stylesheet(), media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    @router.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        return fresh_form(request, language(request), next_path=safe_next(request.query_params.get("next")))

    def attempt(request: Request, form: dict[str, str]) -> Response:
        lang = language(request, form)
        t = TEXT[lang]
        next_path = safe_next(form.get("next"))
        name = form.get("name", "").strip()[:64]
        ip = request.client.host if request.client else None
        if not same_token(form.get("csrf"), request.cookies.get(LOGIN_CSRF_COOKIE)):
            return fresh_form(request, lang, next_path=next_path, name=name, error=t["expired"], status=403)
        for scope, who, limit in (("login-ip", ip or "?", config.login_per_ip), ("login-name", name, config.login_per_name)):
            allowed, retry = limiter.allow(scope, who, limit)
            if not allowed:
                with rt.sessions() as session, session.begin():
                    audit.record(session, actor=name or "?", role="", action="sign_in_failed", target=f"user:{name}",
                                 detail={"reason": "rate_limited", "scope": scope}, ip=ip, at=rt.clock())
                page = fresh_form(request, lang, next_path=next_path, name=name, error=t["limited"].format(s=retry),
                                  status=429)
                page.headers["Retry-After"] = str(retry)
                return page
        with rt.sessions() as session:
            user = users.active_user(session, name) if name else None
            stored = (user.password_hash, user.role, user.county_code) if user else None
        if stored is None:
            dummy_verify(form.get("password", ""))
        ok = stored is not None and verify_password(stored[0], form.get("password", ""))
        with rt.sessions() as session, session.begin():
            audit.record(session, actor=name or "?", role=stored[1] if stored else "",
                         action="sign_in" if ok else "sign_in_failed", target=f"user:{name}",
                         detail={} if ok else {"reason": "unknown_user" if stored is None else "wrong_password"}, ip=ip,
                         at=rt.clock())
        if not ok or stored is None:
            return fresh_form(request, lang, next_path=next_path, name=name, error=t["failed"], status=401)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            end_session(rt.redis, old)
        session_id, data = start_session(rt.redis, Principal(name=name, role=Role(stored[1]), county=stored[2]))
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookies(response, session_id, data, https=https(request))
        delete_cookie(response, LOGIN_CSRF_COOKIE, https=https(request))
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(attempt, request, form)

    def sign_out(request: Request, form: dict[str, str]) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        data = load_session(rt.redis, session_id) if session_id else None
        given = form.get("csrf") or header_token(request.headers)
        if data is not None:
            if not same_token(given, data.csrf):
                return HTMLResponse("CSRF token missing or wrong", status_code=403)
            end_session(rt.redis, session_id or "")
            with rt.sessions() as session, session.begin():
                audit.record(session, actor=data.principal.name, role=data.principal.role.value, action="sign_out",
                             target=f"{'screen' if data.principal.role == Role.screen else 'user'}:{data.principal.name}",
                             ip=request.client.host if request.client else None, at=rt.clock())
        response = RedirectResponse(f"/login?lang={language(request, form)}", status_code=303)
        clear_session_cookies(response, https=https(request))
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(sign_out, request, form)

    return router
