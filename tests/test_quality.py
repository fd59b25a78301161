"""The house rules a machine can check: ruff's lint and format, and mypy on the packages."""

from __future__ import annotations

import subprocess
import sys

from eccoo.settings import REPO_ROOT

BIN = REPO_ROOT / ".venv" / "bin"
# Every package is type-checked, and the benchmarks.
TYPED = ["eccoo", "node", "client", "graph_sync", "gateway", "treasury", "bench"]


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_is_clean():
    result = _run(str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_is_clean_on_typed_packages():
    result = _run(sys.executable, "-m", "mypy", *TYPED)
    assert result.returncode == 0, result.stdout[-4000:]
