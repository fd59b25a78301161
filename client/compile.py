"""Compiles the Solidity in `contracts/` with the pinned solc (standard JSON, paris, optimizer on).

Pure compilation: it returns the compiler output and raises `CompileError` on any compiler
error. It never writes artifacts (that is `artifacts.py`) and never downloads a compiler.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path
from typing import Any

from eccoo.client.errors import CompileError

from eccoo.engines import SOLC_VERSION, engine_paths
from eccoo.settings import REPO_ROOT

CONTRACTS_DIR = REPO_ROOT / "contracts"
EVM_VERSION = "paris"
OPTIMIZER_RUNS = 200
OZ_PREFIX = "@openzeppelin/contracts/"

_IMPORT = re.compile(r'^\s*import\s+(?:[^"\']*\s+from\s+)?["\']([^"\']+)["\']', re.MULTILINE)

# The contracts the rest of eccoo deploys and talks to, by deployment key.
DEPLOYED_CONTRACTS = ("Forwarder", "Membership", "CareCoin", "FundingPots", "CareLedger")
CONTRACT_OF_KEY = {"Forwarder": "CareForwarder"}


def source_files(contracts_dir: Path = CONTRACTS_DIR) -> list[Path]:
    """Every .sol file under `contracts_dir`, in a stable order.

    Hidden folders are skipped: Ape may keep copies of dependencies in `contracts/.cache`.
    """
    return sorted(
        p
        for p in contracts_dir.rglob("*.sol")
        if not any(part.startswith(".") for part in p.relative_to(contracts_dir).parts)
    )


def sources_hash(contracts_dir: Path = CONTRACTS_DIR) -> str:
    """A hash of the sources and the settings, so a stale build is noticed."""
    digest = hashlib.sha256()
    digest.update(f"{SOLC_VERSION}|{EVM_VERSION}|{OPTIMIZER_RUNS}".encode())
    for path in source_files(contracts_dir):
        digest.update(str(path.relative_to(contracts_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def standard_input(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """The solc standard-JSON input with every source inline.

    OpenZeppelin files are inlined under their `@openzeppelin/contracts/...` names (not
    the cache's absolute path), so the metadata, and so the bytecode, is the same on
    every machine.
    """
    sources = {
        f"contracts/{path.relative_to(contracts_dir).as_posix()}": {"content": path.read_text()}
        for path in source_files(contracts_dir)
    }
    sources.update(_openzeppelin_sources(sources))
    return {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": EVM_VERSION,
            "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "metadata"]}},
        },
    }


def _openzeppelin_sources(sources: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """Follows imports from our sources into OpenZeppelin and returns those files."""
    oz_dir = engine_paths().openzeppelin
    if not oz_dir.is_dir():
        raise CompileError(f"OpenZeppelin is not installed at {oz_dir}; run `eccoo setup`")
    found: dict[str, dict[str, str]] = {}
    pending = [(name, body["content"]) for name, body in sources.items()]
    while pending:
        unit, text = pending.pop()
        for target in _IMPORT.findall(text):
            name = (
                posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
                if (target.startswith("."))
                else target
            )
            if not name.startswith(OZ_PREFIX) or name in found:
                continue
            path = oz_dir / name.removeprefix(OZ_PREFIX)
            if not path.is_file():
                raise CompileError(f"{unit} imports {target}, which is not in {oz_dir}")
            found[name] = {"content": path.read_text()}
            pending.append((name, found[name]["content"]))
    return found


def compile_sources(contracts_dir: Path = CONTRACTS_DIR) -> dict[str, Any]:
    """Runs solc and returns its output; raises CompileError listing every compiler error."""
    import solcx  # imported here: loading solcx is slow and most callers read artifacts

    try:
        output = solcx.compile_standard(
            standard_input(contracts_dir), solc_version=SOLC_VERSION, base_path=str(REPO_ROOT)
        )
    except solcx.exceptions.SolcError as exc:
        raise CompileError(f"solc failed: {_first_errors(exc.stdout_data)}") from exc
    except solcx.exceptions.SolcNotInstalled as exc:
        raise CompileError(f"solc {SOLC_VERSION} is not installed; run `eccoo setup`") from exc
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise CompileError("; ".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output


def _first_errors(stdout: str | None) -> str:
    return (stdout or "no output")[:2000]
