"""Every setting the product reads from the environment, in one place.

Defaults make a fresh clone run with no servers installed: a SQLite file and an embedded Redis
under ``var/``. Production sets ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; build it with :func:`load_settings`."""

    database_url: str
    redis_url: str | None
    """``None`` means: start or reuse the embedded Redis under ``var_dir``."""
    var_dir: Path
    host: str = "127.0.0.1"
    port: int = 8050
    tile_url: str | None = None
    """A tile server on the intranet; ``None`` draws polygons on a plain background."""
    tile_attribution: str = ""
    county_code: str | None = None
    """Which county the screens show; ``None`` picks the only (or first) county imported."""
    area: str | None = None
    """The area this deployment serves (``MEDIATION_AREA``): a county, city or province code. Every
    imported county inside it is served (written to, scheduled, shown); ``None``: every imported county."""
    refresh_seconds: float = 3.0
    rules_file: Path | None = None
    language: str = "zh"
    clock_skew_seconds: float = 300.0
    """How far into the future a source system's event time may lie (its clock may run ahead)."""
    sources_act_on_any_case: bool = False
    """Whether a source system may move cases another source reported (default: only its own)."""
    scheduler: bool = True
    """Run the deadline scheduler inside the app process (a Redis lock keeps it to one process)."""
    outbox_drain_seconds: float = 10.0
    """How often every app process drains the aggregate outbox (``MEDIATION_OUTBOX_DRAIN_SECONDS``):
    what a process that died still owed Redis is applied by the others within about this long."""
    live_max_states: int = 64
    """Screen states one process's live hub keeps at most (``MEDIATION_LIVE_MAX_STATES``); a new
    period beyond it, with none idle to evict, is refused with a 503."""
    live_idle_seconds: float = 300.0
    """A screen state no stream holds and no poll asked for within this long is evicted
    (``MEDIATION_LIVE_IDLE_SECONDS``)."""
    live_streams_per_principal: int = 8
    """Open live streams one signed-in user, screen or token may hold in one process
    (``MEDIATION_LIVE_STREAMS_PER_PRINCIPAL``); one more is a 429."""
    redis_namespace: str | None = None
    """Start of every Redis key (``MEDIATION_REDIS_NAMESPACE``), so several deployments or test runs
    can share one Redis; the runtime hands it to ``data_access.redis_keys.use_namespace``. ``None``
    leaves it to ``redis_keys``: the environment's value when the first key is built, else ``mc``."""
    party_key_secret: str | None = None
    """The HMAC secret of the party keys (``MEDIATION_PARTY_KEY_SECRET``) that recognise a repeat
    caller without comparing numbers; ``None``: a random one kept in ``var_dir``."""
    ledger_words_file: Path | None = None
    """A county's own ledger words (``MEDIATION_LEDGER_WORDS``, TOML; see docs/ledgers.md); ``None``:
    ``var_dir/ledger_words.toml`` when that file exists."""
    import_max_rows: int = 200_000
    """Data rows a case list may hold (``MEDIATION_IMPORT_MAX_ROWS``); an XLSX declaring more is refused unread."""
    import_max_columns: int = 200
    """Columns a case list may hold (``MEDIATION_IMPORT_MAX_COLUMNS``)."""
    import_max_unpacked_mb: int = 200
    """An XLSX's unpacked size, or a CSV's size, in MB (``MEDIATION_IMPORT_MAX_UNPACKED_MB``)."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks of the reverse proxies whose ``X-Forwarded-For``/``-Proto`` are believed
    (``MEDIATION_TRUSTED_PROXIES``, e.g. ``127.0.0.1,10.0.0.0/8``); none by default: the headers are
    ignored (``dashboard.access.proxies``)."""
    reveal_quota_per_hour: int = 20
    """Reveals of personal data one duty officer may make in any hour (``MEDIATION_REVEAL_QUOTA_PER_HOUR``);
    beyond it reveals are refused and the admin is alerted (``dashboard.cases.reveal_quota``)."""
    extra: dict[str, str] = field(default_factory=dict)


def _networks(value: str) -> tuple[str, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → its entries, each checked: a typo fails at start-up rather than
    silently trusting (or ignoring) a proxy."""
    entries = tuple(item.strip() for item in value.split(",") if item.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(f"MEDIATION_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from None
    return entries


def _optional(env: dict[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    var_dir = Path(env.get("MEDIATION_VAR_DIR") or PROJECT_ROOT / "var")
    database_url = _optional(env, "DATABASE_URL") or f"sqlite:///{var_dir / 'mediation.db'}"
    rules = _optional(env, "MEDIATION_RULES")
    language = env.get("MEDIATION_LANGUAGE", "zh")
    if language not in ("zh", "en"):
        raise ValueError(f"MEDIATION_LANGUAGE must be 'zh' or 'en', not {language!r}")
    return Settings(
        database_url=database_url,
        redis_url=_optional(env, "REDIS_URL"),
        var_dir=var_dir,
        host=env.get("HOST", "127.0.0.1"),
        port=int(env.get("PORT", "8050")),
        tile_url=_optional(env, "TILE_URL"),
        tile_attribution=env.get("TILE_ATTRIBUTION", ""),
        county_code=_optional(env, "COUNTY_CODE"),
        area=_optional(env, "MEDIATION_AREA"),
        refresh_seconds=float(env.get("REFRESH_SECONDS", "3")),
        rules_file=Path(rules) if rules else None,
        language=language,
        clock_skew_seconds=float(env.get("MEDIATION_CLOCK_SKEW_SECONDS", "300")),
        sources_act_on_any_case=env.get("MEDIATION_SOURCES_ACT_ON_ANY_CASE", "off") == "on",
        scheduler=env.get("MEDIATION_SCHEDULER", "on") != "off",
        redis_namespace=_optional(env, "MEDIATION_REDIS_NAMESPACE"),
        party_key_secret=_optional(env, "MEDIATION_PARTY_KEY_SECRET"),
        outbox_drain_seconds=float(env.get("MEDIATION_OUTBOX_DRAIN_SECONDS", "10")),
        live_max_states=int(env.get("MEDIATION_LIVE_MAX_STATES", "64")),
        live_idle_seconds=float(env.get("MEDIATION_LIVE_IDLE_SECONDS", "300")),
        live_streams_per_principal=int(env.get("MEDIATION_LIVE_STREAMS_PER_PRINCIPAL", "8")),
        ledger_words_file=Path(words) if (words := _optional(env, "MEDIATION_LEDGER_WORDS")) else None,
        import_max_rows=int(env.get("MEDIATION_IMPORT_MAX_ROWS", "200000")),
        import_max_columns=int(env.get("MEDIATION_IMPORT_MAX_COLUMNS", "200")),
        import_max_unpacked_mb=int(env.get("MEDIATION_IMPORT_MAX_UNPACKED_MB", "200")),
        trusted_proxies=_networks(env.get("MEDIATION_TRUSTED_PROXIES", "")),
        reveal_quota_per_hour=int(env.get("MEDIATION_REVEAL_QUOTA_PER_HOUR", "20")),
    )
