"""Compiled contract artifacts (ABI, bytecode, metadata) in a build folder, compiled on demand.

`load_artifacts()` is what the rest of eccoo calls; it recompiles when the sources changed
(sha256 of sources and compiler settings). It never writes outside the build folder, and
every file is replaced atomically so a reader never sees half an artifact.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eccoo.client.compile import CONTRACTS_DIR, compile_sources, sources_hash
from eccoo.client.settings import ContractsSettings

HASH_FILE = "sources.sha256"


@dataclass(frozen=True)
class Artifact:
    """One compiled contract."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code
    metadata: str

    def to_json(self) -> dict[str, Any]:
        return {
            "contractName": self.name,
            "sourceName": self.source,
            "abi": self.abi,
            "bytecode": self.bytecode,
            "metadata": self.metadata,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Artifact:
        return cls(
            raw["contractName"], raw["sourceName"], raw["abi"], raw["bytecode"], raw["metadata"]
        )


def _build_dir(settings: ContractsSettings | None, build_dir: Path | None) -> Path:
    if build_dir is not None:
        return Path(build_dir)
    return (settings or ContractsSettings()).build_dir


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    """Writes `text` to `path` through a temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def compile_artifacts(
    settings: ContractsSettings | None = None,
    *,
    build_dir: Path | None = None,
    contracts_dir: Path = CONTRACTS_DIR,
) -> dict[str, Artifact]:
    """Compiles every contract and writes `<Name>.json` per contract, then the sources hash."""
    out_dir = _build_dir(settings, build_dir)
    digest = sources_hash(contracts_dir)
    output = compile_sources(contracts_dir)
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        if not source.startswith("contracts/"):
            continue  # OpenZeppelin's own contracts are not ours to ship
        for name, compiled in contracts.items():
            bytecode = compiled["evm"]["bytecode"]["object"]
            if not bytecode or not compiled["abi"]:
                continue  # interfaces, and libraries used only internally (Hats)
            artifacts[name] = Artifact(
                name, source, compiled["abi"], "0x" + bytecode, compiled["metadata"]
            )
    for name, artifact in artifacts.items():
        write_atomic(out_dir / f"{name}.json", json.dumps(artifact.to_json(), indent=1))
    for path in out_dir.glob("*.json"):
        if path.stem not in artifacts:
            path.unlink()  # a contract that no longer exists must not be loaded
    # Written last: a crash before this line leaves the build stale, never falsely fresh.
    write_atomic(out_dir / HASH_FILE, digest + "\n")
    return artifacts


def is_fresh(build_dir: Path, contracts_dir: Path = CONTRACTS_DIR) -> bool:
    """True if the build folder holds artifacts of exactly the current sources."""
    try:
        return (build_dir / HASH_FILE).read_text().strip() == sources_hash(contracts_dir)
    except OSError:
        return False


def load_artifacts(
    settings: ContractsSettings | None = None,
    *,
    build_dir: Path | None = None,
    contracts_dir: Path = CONTRACTS_DIR,
) -> dict[str, Artifact]:
    """The artifacts by contract name (`CareCoin`, `CareForwarder`, ...); compiles if stale."""
    out_dir = _build_dir(settings, build_dir)
    if not is_fresh(out_dir, contracts_dir):
        return compile_artifacts(settings, build_dir=out_dir, contracts_dir=contracts_dir)
    artifacts = {}
    for path in sorted(out_dir.glob("*.json")):
        artifact = Artifact.from_json(json.loads(path.read_text()))
        artifacts[artifact.name] = artifact
    return artifacts
