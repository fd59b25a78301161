"""What the indexer follows: the deployed contracts, read from `deployment.json`.

The format is the contracts package's: {"chain_id", "contracts": {name: {"address",
"abi", "block", "tx"}}}. A missing or malformed file is a clear error naming the file
and the field; nothing is indexed from a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eccoo.graph_sync.errors import DeploymentMissing, InvalidDeployment


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    contracts: dict[str, tuple[str, list[dict[str, Any]]]]  # name -> (address, abi)
    start_block: int

    @property
    def addresses(self) -> list[str]:
        return [address for address, _ in self.contracts.values()]

    @property
    def key(self) -> str:
        """Identifies this deployment in the graph's cursor."""
        return f"{self.chain_id}:" + ",".join(sorted(a.lower() for a in self.addresses))


def load_deployment(path: Path) -> Deployment:
    if not path.is_file():
        raise DeploymentMissing(
            f"no deployment file at {path}; deploy the contracts first (`eccoo contracts deploy`)",
            field="deployment_file",
        )
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidDeployment(
            f"{path} is not valid JSON: {exc}", field="deployment_file"
        ) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("chain_id"), int):
        raise InvalidDeployment(f"{path}: `chain_id` must be an integer", field="chain_id")
    entries = raw.get("contracts")
    if not isinstance(entries, dict) or not entries:
        raise InvalidDeployment(
            f"{path}: `contracts` must name the deployed contracts", field="contracts"
        )
    contracts: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    blocks = []
    for name, entry in entries.items():
        where = f"contracts.{name}"
        if not isinstance(entry, dict):
            raise InvalidDeployment(f"{path}: `{where}` must be an object", field=where)
        address, abi, block = entry.get("address"), entry.get("abi"), entry.get("block")
        if not (isinstance(address, str) and address.startswith("0x") and len(address) == 42):
            raise InvalidDeployment(
                f"{path}: `{where}.address` is not an address", field=f"{where}.address"
            )
        if not isinstance(abi, list):
            raise InvalidDeployment(f"{path}: `{where}.abi` must be a list", field=f"{where}.abi")
        if not isinstance(block, int) or block < 0:
            raise InvalidDeployment(
                f"{path}: `{where}.block` must be a block number", field=f"{where}.block"
            )
        contracts[name] = (address.lower(), abi)
        blocks.append(block)
    return Deployment(raw["chain_id"], contracts, min(blocks))
