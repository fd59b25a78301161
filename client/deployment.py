"""The record of a deployment, `<network_dir>/deployment.json`, and web3 handles onto it.

Shape: {"chain_id": int, "contracts": {key: {"address", "abi", "block", "tx"}}} with keys
Forwarder, Membership, CareCoin, FundingPots, CareLedger. This module reads and writes that
file only (atomically); it never talks to a node except to bind contracts to a Web3.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eccoo.client.artifacts import write_atomic
from eccoo.client.compile import DEPLOYED_CONTRACTS
from eccoo.client.errors import DeploymentError
from web3 import Web3
from web3.contract import Contract

from eccoo.errors import NotFound

DEPLOYMENT_FILE = "deployment.json"


@dataclass(frozen=True)
class DeployedContract:
    address: str
    abi: list[dict[str, Any]]
    block: int
    tx: str


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    contracts: dict[str, DeployedContract]

    def contract(self, w3: Web3, key: str) -> Contract:
        """A web3 contract bound to the deployed `key` (e.g. "CareLedger")."""
        entry = self.contracts[key]
        return w3.eth.contract(address=Web3.to_checksum_address(entry.address), abi=entry.abi)

    def address(self, key: str) -> str:
        return self.contracts[key].address

    def to_json(self) -> dict[str, Any]:
        return {
            "chain_id": self.chain_id,
            "contracts": {
                key: {"address": c.address, "abi": c.abi, "block": c.block, "tx": c.tx}
                for key, c in self.contracts.items()
            },
        }

    @property
    def addresses(self) -> list[str]:
        return [c.address for c in self.contracts.values()]

    @property
    def start_block(self) -> int:
        """The first block any of the contracts exists in."""
        return min(c.block for c in self.contracts.values())

    @classmethod
    def from_json(
        cls,
        raw: Any,
        *,
        source: str = "deployment",
        required: Iterable[str] = DEPLOYED_CONTRACTS,
    ) -> Deployment:
        """Validates the record field by field; DeploymentError names the first bad one.
        `required` are the keys it must have (a reader that follows a subset asks for none)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("chain_id"), int):
            raise DeploymentError(f"{source}: `chain_id` must be an integer", field="chain_id")
        entries = raw.get("contracts")
        if not isinstance(entries, dict) or not entries:
            raise DeploymentError(
                f"{source}: `contracts` must name the deployed contracts", field="contracts"
            )
        contracts = {key: _contract(source, key, entry) for key, entry in entries.items()}
        missing = [k for k in required if k not in contracts]
        if missing:
            raise DeploymentError(f"{source}: no entry for {', '.join(missing)}", field="contracts")
        return cls(raw["chain_id"], contracts)


def _contract(source: str, key: str, entry: Any) -> DeployedContract:
    where = f"contracts.{key}"
    if not isinstance(entry, dict):
        raise DeploymentError(f"{source}: `{where}` must be an object", field=where)
    address, abi, block, tx = (entry.get(k) for k in ("address", "abi", "block", "tx"))
    if not (isinstance(address, str) and Web3.is_address(address)):
        raise DeploymentError(
            f"{source}: `{where}.address` is not an address", field=f"{where}.address"
        )
    if not isinstance(abi, list):
        raise DeploymentError(f"{source}: `{where}.abi` must be a list", field=f"{where}.abi")
    if not isinstance(block, int) or isinstance(block, bool) or block < 0:
        raise DeploymentError(
            f"{source}: `{where}.block` must be a block number", field=f"{where}.block"
        )
    if not isinstance(tx, str):
        raise DeploymentError(
            f"{source}: `{where}.tx` must be a transaction hash", field=f"{where}.tx"
        )
    return DeployedContract(Web3.to_checksum_address(address), abi, block, tx)


def deployment_path(network_dir: Path) -> Path:
    return Path(network_dir) / DEPLOYMENT_FILE


def load_deployment(network_dir: Path) -> Deployment:
    """Reads `<network_dir>/deployment.json`; NotFound if absent, DeploymentError if malformed."""
    return read_deployment(deployment_path(network_dir))


def read_deployment(path: Path, *, required: Iterable[str] = DEPLOYED_CONTRACTS) -> Deployment:
    """Reads a deployment record at `path`; NotFound if absent, DeploymentError if malformed."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(
            f"{path}: no deployment here (deploy the contracts first: `eccoo contracts deploy`)",
            field=str(path),
        ) from None
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"{path}: unreadable deployment ({exc})", field=str(path)) from None
    return Deployment.from_json(raw, source=str(path), required=required)


def save_deployment(network_dir: Path, deployment: Deployment) -> Path:
    path = deployment_path(network_dir)
    write_atomic(path, json.dumps(deployment.to_json(), indent=1) + "\n")
    return path
