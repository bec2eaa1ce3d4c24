"""The architecture is a contract: ``.importlinter`` says which package may import which, and
``make test`` fails when a change breaks it (see docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("dashboard", "data_access", "layouts", "callbacks", "geo")


def lint_imports(cwd: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache", "--no-logo"]
    for contract in contracts:
        args += ["--contract", contract]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_contracts_catch_a_forbidden_import(tmp_path: Path) -> None:
    """Not vacuous: in a copy of the code, the domain importing the database layer breaks them."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / "dashboard" / "domain" / "probe.py").write_text("import data_access.models  # noqa: F401\n")
    result = lint_imports(tmp_path, "domain-is-pure")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "dashboard.domain.probe -> data_access.models" in result.stdout
