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
    assert out == ["later:v3:220283:meta", "given:v3:220283:meta", "given:v3:*"]


def test_settings_carry_the_namespace() -> None:
    from dashboard.settings import load_settings

    assert load_settings({"MEDIATION_REDIS_NAMESPACE": "east"}).redis_namespace == "east"
    assert load_settings({}).redis_namespace is None
