"""The record of a deployment, `<network_dir>/deployment.json`, and web3 handles onto it.

Shape: {"chain_id": int, "contracts": {key: {"address", "abi", "block", "tx"}}} with keys
Forwarder, Membership, CareCoin, FundingPots, CareLedger. This module reads and writes that
file only (atomically); it never talks to a node except to bind contracts to a Web3.
"""

from __future__ import annotations

import json
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

    @classmethod
    def from_json(cls, raw: Any, *, source: str = "deployment") -> Deployment:
        try:
            contracts = {
                key: DeployedContract(
                    Web3.to_checksum_address(entry["address"]),
                    list(entry["abi"]),
                    int(entry["block"]),
                    str(entry["tx"]),
                )
                for key, entry in raw["contracts"].items()
            }
            deployment = cls(int(raw["chain_id"]), contracts)
        except (KeyError, TypeError, ValueError) as exc:
            raise DeploymentError(
                f"{source}: malformed deployment ({exc!r})", field=source
            ) from None
        missing = [k for k in DEPLOYED_CONTRACTS if k not in contracts]
        if missing:
            raise DeploymentError(f"{source}: no entry for {', '.join(missing)}", field=source)
        return deployment


def deployment_path(network_dir: Path) -> Path:
    return Path(network_dir) / DEPLOYMENT_FILE


def load_deployment(network_dir: Path) -> Deployment:
    """Reads `<network_dir>/deployment.json`; NotFound if absent, DeploymentError if malformed."""
    path = deployment_path(network_dir)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotFound(
            f"{path}: no deployment here"
            f" (run `eccoo contracts deploy --network-dir {network_dir}`)",
            field=str(path),
        ) from None
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"{path}: unreadable deployment ({exc})", field=str(path)) from None
    return Deployment.from_json(raw, source=str(path))


def save_deployment(network_dir: Path, deployment: Deployment) -> Path:
    path = deployment_path(network_dir)
    write_atomic(path, json.dumps(deployment.to_json(), indent=1) + "\n")
    return path
