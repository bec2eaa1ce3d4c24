"""The sign-in page and sign-out: server-rendered HTML (``templates/login.html``), no script,
Chinese by default, English with ``?lang=en``.

The form is protected by a double-submit token (a cookie and a hidden field that must match);
signing in replaces any earlier session, so a session id planted before sign-in is worthless.
Attempts are limited per address (``SecurityConfig.login_per_ip``, a moving window), and failures
lock out one name *from one address* with exponential backoff (``SecurityConfig.login_lockout``), so
a stranger elsewhere cannot lock a named duty officer out. Refused attempts are counted in Redis and
the audit log gets one entry per burst (when it starts, at 10, 100, … and when it ends), not one per
refusal. Without Redis sign-in is a 503, whatever the password.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

import redis
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from dashboard.access.auth import Principal, Role, dummy_verify, end_session, load_session, start_session, verify_password
from dashboard.access.cookies import SESSION_COOKIE, clear_session_cookies, delete_cookie, set_cookie, set_session_cookies
from dashboard.access.csrf import LOGIN_CSRF_COOKIE, header_token, same_token
from dashboard.access.pages import render, stylesheet
from dashboard.access.rate_limits import RateLimiter
from dashboard.access.tokens import TOKEN_SHAPE
from data_access import audit, sign_in_attempts, users
from data_access.sign_in_attempts import Burst

if TYPE_CHECKING:
    from dashboard.access.security import SecurityConfig
    from dashboard.runtime import Runtime

log = logging.getLogger(__name__)

MAX_FORM = 8192
UNAVAILABLE_RETRY = 30
TEXT = {
    "zh": {"title": "登录 · 矛盾纠纷调处化解指挥中心", "heading": "指挥中心登录", "name": "用户名", "password": "密码",
           "submit": "登录", "failed": "用户名或密码错误。", "limited": "尝试次数过多，请 {s} 秒后再试。",
           "unavailable": "登录暂不可用，请稍后再试。", "out_unavailable": "退出暂不可用，请稍后再试。",
           "expired": "页面已过期，请重新提交。", "other": "English", "signed_out": "已退出登录。",
           "screen_hint": "大屏请使用管理员发放的屏幕链接（/screen?token=…），无需登录。"},
    "en": {"title": "Sign in · Dispute-resolution command centre", "heading": "Command centre sign-in",
           "name": "User name", "password": "Password", "submit": "Sign in", "failed": "Wrong user name or password.",
           "limited": "Too many attempts; try again in {s} s.",
           "unavailable": "Sign-in is unavailable for the moment; please try again shortly.",
           "out_unavailable": "Sign-out is unavailable for the moment; please try again shortly.",
           "expired": "The form expired; please submit it again.",
           "other": "中文", "signed_out": "You have signed out.",
           "screen_hint": "Wall screens use the screen link issued by an administrator (/screen?token=…); no sign-in."},
}


def is_milestone(count: int) -> bool:
    """10, 100, 1000, …: a burst nobody ends still shows its size in the audit log."""
    return count >= 10 and str(count).strip("0") == "1"


def burst_detail(scope: str, burst: Burst, *, ended: bool) -> dict[str, object]:
    return {"scope": scope, "count": burst.count, "first": burst.first, "last": burst.last,
            "burst": "ended" if ended else "continuing"}


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
    clock = config.rate_clock(rt)
    limiter = RateLimiter(rt.redis, clock)

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
        try:
            return checked(request, form, lang, next_path, name, ip)
        except redis.RedisError:
            # Redis holds the counts and the sessions: without it no guess may pass uncounted and no
            # one can be signed in. The password is never checked here, so a right and a wrong one
            # get the same page in the same time: no oracle.
            log.warning("sign-in refused: Redis unreachable")
            page = fresh_form(request, lang, next_path=next_path, name=name, error=t["unavailable"], status=503)
            page.headers["Retry-After"] = str(UNAVAILABLE_RETRY)
            return page

    def audited(action: str, name: str, role: str, ip: str | None, detail: dict[str, object]) -> None:
        with rt.sessions() as session, session.begin():
            audit.record(session, actor=name or "?", role=role, action=action, target=f"user:{name}", detail=detail,
                         ip=ip, at=rt.clock())

    def refused(scope: str, who: str, name: str, ip: str | None, gap: int) -> None:
        """Count a refused attempt; only a burst's first refusal, its milestones (10, 100, …) and
        the burst it closed are written to the audit log, each with its count."""
        count, closed = sign_in_attempts.count_refusal(rt.redis, scope, who, now=clock(), gap=gap)
        if closed is not None:
            audited("sign_in_limited", name, "", ip, burst_detail(scope, closed, ended=True))
        if count == 1 or is_milestone(count):
            audited("sign_in_limited", name, "", ip, {"scope": scope, "count": count,
                                                       "burst": "started" if count == 1 else "continuing"})

    def admitted(scope: str, who: str, name: str, ip: str | None) -> None:
        closed = sign_in_attempts.close_burst(rt.redis, scope, who)
        if closed is not None:
            audited("sign_in_limited", name, "", ip, burst_detail(scope, closed, ended=True))

    def checked(request: Request, form: dict[str, str], lang: str, next_path: str, name: str,
                ip: str | None) -> Response:
        """The attempt past its form token: limits, the password, the session. Redis errors propagate."""
        t = TEXT[lang]
        address = ip or "?"
        pair = f"{name}@{address}"
        allowed, retry = limiter.allow("login-ip", address, config.login_per_ip, strict=True)
        scope, gap = "login-ip", config.login_per_ip.seconds
        if allowed:
            retry = sign_in_attempts.locked_for(rt.redis, name, address, now=clock())
            scope, gap = "login-pair", config.login_lockout.cap
        if not allowed or retry > 0:
            refused(scope, address if scope == "login-ip" else pair, name, ip, gap)
            page = fresh_form(request, lang, next_path=next_path, name=name, error=t["limited"].format(s=retry),
                              status=429)
            page.headers["Retry-After"] = str(retry)
            return page
        admitted("login-ip", address, name, ip)
        admitted("login-pair", pair, name, ip)
        with rt.sessions() as session:
            user = users.active_user(session, name) if name else None
            stored = (user.password_hash, user.role, user.county_code) if user else None
        if stored is None:
            dummy_verify(form.get("password", ""))
        ok = stored is not None and verify_password(stored[0], form.get("password", ""))
        if not ok or stored is None:
            failures, locked = sign_in_attempts.record_failure(
                rt.redis, name, address, now=clock(), lock_seconds=config.login_lockout.lock_seconds,
                forget=config.login_lockout.forget)
            audited("sign_in_failed", name, stored[1] if stored else "", ip,
                    {"reason": "unknown_user" if stored is None else "wrong_password", "failures": failures,
                     **({"locked_seconds": locked} if locked else {})})
            return fresh_form(request, lang, next_path=next_path, name=name, error=t["failed"], status=401)
        sign_in_attempts.clear_failures(rt.redis, name, address)
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            end_session(rt.redis, old)
        session_id, data = start_session(rt.redis, Principal(name=name, role=Role(stored[1]), area=stored[2]))
        try:
            audited("sign_in", name, stored[1], ip, {})
        except BaseException:
            end_session(rt.redis, session_id)  # no session without its audit entry
            raise
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookies(response, session_id, data, https=https(request))
        delete_cookie(response, LOGIN_CSRF_COOKIE, https=https(request))
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await read_form(request)
        return await run_in_threadpool(attempt, request, form)

    def sign_out(request: Request, form: dict[str, str]) -> Response:
        try:
            return ended(request, form)
        except redis.RedisError:  # the session cannot be ended, so the page must not say it was
            log.warning("sign-out refused: Redis unreachable")
            return HTMLResponse(TEXT[language(request, form)]["out_unavailable"], status_code=503,
                                headers={"Retry-After": str(UNAVAILABLE_RETRY), "Cache-Control": "no-store"})

    def ended(request: Request, form: dict[str, str]) -> Response:
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
