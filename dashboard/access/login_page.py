"""The sign-in page and sign-out: plain server-rendered HTML, no script, Chinese by default.

The form is protected by a double-submit token (a cookie and a hidden field that must match);
signing in replaces any earlier session, so a session id planted before sign-in is worthless.
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dashboard.access.auth import Principal, Role, dummy_verify, end_session, load_session, start_session, verify_password
from dashboard.runtime import Runtime
from dashboard.access.security import (
    CSRF_HEADERS,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    TOKEN_SHAPE,
    RateLimiter,
    SecurityConfig,
    clear_cookies,
    cookie_header,
    same_token,
    session_cookies,
)
from data_access import audit, users

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
CSS = """
:root { --bg: #07111c; --panel: #0d1b2a; --edge: #1e3a52; --text: #e6f1ff; --muted: #8fb3d1; --red: #ef4444;
        --blue: #3b82f6; }
html, body { margin: 0; min-height: 100%; background: var(--bg); color: var(--text);
             font-family: "Noto Sans SC", "Microsoft YaHei", system-ui, sans-serif; }
.login { max-width: 380px; margin: 12vh auto; padding: 32px; background: var(--panel); border: 1px solid var(--edge);
         border-radius: 8px; }
.login h1 { margin: 0 0 24px; font-size: 22px; letter-spacing: 0.08em; }
.login label { display: block; margin: 14px 0 6px; color: var(--muted); font-size: 14px; }
.login input { box-sizing: border-box; width: 100%; padding: 10px 12px; background: var(--bg); color: var(--text);
               border: 1px solid var(--edge); border-radius: 4px; font-size: 16px; }
.login input:focus { outline: none; border-color: var(--blue); }
.login button { margin-top: 24px; width: 100%; padding: 11px; background: var(--blue); color: #fff; border: 0;
                border-radius: 4px; font-size: 16px; font-weight: 700; cursor: pointer; }
.login .error { color: var(--red); margin: 12px 0 0; }
.login .note { color: var(--muted); font-size: 13px; margin-top: 20px; }
.login a { color: var(--muted); }
.audit { margin: 24px; }
.audit table { border-collapse: collapse; width: 100%; font-size: 14px; }
.audit th, .audit td { border: 1px solid var(--edge); padding: 6px 8px; text-align: left; vertical-align: top; }
.audit th { background: var(--panel); color: var(--muted); }
.audit a { color: var(--muted); margin-right: 16px; }
"""


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
    t = TEXT[lang]
    other = "en" if lang == "zh" else "zh"
    err = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(t['title'])}</title>
<link rel="stylesheet" href="/assets/fonts.css"><link rel="stylesheet" href="/login.css"></head>
<body><main class="login"><h1>{html.escape(t['heading'])}</h1>
<form method="post" action="/login" autocomplete="on">
<input type="hidden" name="csrf" value="{html.escape(csrf)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<input type="hidden" name="lang" value="{lang}">
<label for="name">{html.escape(t['name'])}</label>
<input id="name" name="name" value="{html.escape(name)}" autocomplete="username" required maxlength="64" autofocus>
<label for="password">{html.escape(t['password'])}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
<button type="submit" id="login-submit">{html.escape(t['submit'])}</button>{err}
</form>
<p class="note">{html.escape(t['screen_hint'])}</p>
<p class="note"><a href="/login?lang={other}&amp;next={html.escape(next_path)}">{html.escape(t['other'])}</a></p>
</main></body></html>"""
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


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
    limiter = RateLimiter(rt.redis, config.clock)

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
            response.headers.append("set-cookie", cookie_header(LOGIN_CSRF_COOKIE, csrf, https=https(request)))
        return response

    @router.get("/login.css")
    def login_css() -> Response:
        return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

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
                                 detail={"reason": "rate_limited", "scope": scope}, ip=ip)
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
                         detail={} if ok else {"reason": "unknown_user" if stored is None else "wrong_password"}, ip=ip)
        if not ok or stored is None:
            return fresh_form(request, lang, next_path=next_path, name=name, error=t["failed"], status=401)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            end_session(rt.redis, old)
        session_id, data = start_session(rt.redis, Principal(name=name, role=Role(stored[1]), county=stored[2]))
        response = RedirectResponse(next_path, status_code=303)
        for cookie in session_cookies(session_id, data, https=https(request)):
            response.headers.append("set-cookie", cookie)
        response.headers.append("set-cookie", cookie_header(LOGIN_CSRF_COOKIE, "", https=https(request), max_age=0))
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(attempt, request, form)

    def sign_out(request: Request, form: dict[str, str]) -> Response:
        session_id = request.cookies.get(SESSION_COOKIE)
        data = load_session(rt.redis, session_id) if session_id else None
        given = form.get("csrf") or next((request.headers[h] for h in CSRF_HEADERS if h in request.headers), None)
        if data is not None:
            if not same_token(given, data.csrf):
                return HTMLResponse("CSRF token missing or wrong", status_code=403)
            end_session(rt.redis, session_id or "")
            with rt.sessions() as session, session.begin():
                audit.record(session, actor=data.principal.name, role=data.principal.role.value, action="sign_out",
                             target=f"{'screen' if data.principal.role == Role.screen else 'user'}:{data.principal.name}",
                             ip=request.client.host if request.client else None, at=datetime.now(UTC))
        response = RedirectResponse(f"/login?lang={language(request, form)}", status_code=303)
        for cookie in clear_cookies(https=https(request)):
            response.headers.append("set-cookie", cookie)
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(sign_out, request, form)

    return router
