"""The Redis namespace is not read when ``redis_keys`` is imported: the runtime gives it, or the
environment is read when the first key is built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import os
from data_access import redis_keys
assert redis_keys._prefix is None, "read at import"
os.environ["MEDIATION_REDIS_NAMESPACE"] = "later"
print(redis_keys.meta("220283"))
redis_keys.use_namespace("given")
print(redis_keys.meta("220283"), redis_keys.namespace_pattern())
"""


def test_the_namespace_is_read_on_first_use_and_can_be_given() -> None:
    env = {**os.environ, "MEDIATION_REDIS_NAMESPACE": "at-import"}
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, check=True, text=True,
                         capture_output=True).stdout.split()
    assert out == ["later:v4:{220283}:meta", "given:v4:{220283}:meta", "given:v4:*"]


def test_settings_carry_the_namespace() -> None:
    from dashboard.settings import load_settings

    assert load_settings({"MEDIATION_REDIS_NAMESPACE": "east"}).redis_namespace == "east"
    assert load_settings({}).redis_namespace is None


def test_a_countys_keys_share_its_hash_tag_and_others_carry_none() -> None:
    from data_access import redis_keys

    county = [redis_keys.day("220283", "2026-11-22"), redis_keys.due("220283", 7), redis_keys.record("220283", 99),
              redis_keys.changes_channel("220283"), redis_keys.county_key("220283", "lock:warnings")]
    assert {key.split("{", 1)[1].split("}", 1)[0] for key in county} == {"220283"}
    assert "{" not in redis_keys.auth_session("ab") and "{" not in redis_keys.namespace_pattern()
    for bad in ("", "22{0}", "2}"):
        try:
            redis_keys.county_key(bad, "meta")
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} made a key")
