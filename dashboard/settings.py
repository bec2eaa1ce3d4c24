"""Every setting the product reads from the environment, in one place.

Defaults make a fresh clone run with no servers installed: a SQLite file and an embedded Redis
under ``var/``. Production sets ``DATABASE_URL`` and ``REDIS_URL``.
"""

from __future__ import annotations

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
    refresh_seconds: float = 3.0
    rules_file: Path | None = None
    language: str = "zh"
    clock_skew_seconds: float = 300.0
    """How far into the future a source system's event time may lie (its clock may run ahead)."""
    sources_act_on_any_case: bool = False
    """Whether a source system may move cases another source reported (default: only its own)."""
    scheduler: bool = True
    """Run the deadline scheduler inside the app process (a Redis lock keeps it to one process)."""
    redis_namespace: str | None = None
    """Start of every Redis key (``MEDIATION_REDIS_NAMESPACE``), so several deployments or test runs
    can share one Redis; the runtime hands it to ``data_access.redis_keys.use_namespace``. ``None``
    leaves it to ``redis_keys``: the environment's value when the first key is built, else ``mc``."""
    extra: dict[str, str] = field(default_factory=dict)


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
        refresh_seconds=float(env.get("REFRESH_SECONDS", "3")),
        rules_file=Path(rules) if rules else None,
        language=language,
        clock_skew_seconds=float(env.get("MEDIATION_CLOCK_SKEW_SECONDS", "300")),
        sources_act_on_any_case=env.get("MEDIATION_SOURCES_ACT_ON_ANY_CASE", "off") == "on",
        scheduler=env.get("MEDIATION_SCHEDULER", "on") != "off",
        redis_namespace=_optional(env, "MEDIATION_REDIS_NAMESPACE"),
    )
