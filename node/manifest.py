"""The network manifest: the one file (`<dir>/manifest.json`) every network command reads.

It records the chain parameters, each node's ports, signer, enode and key files, and the
funded deployer and relayer accounts. Paths are stored relative to the network folder so
the folder can move; in memory they are absolute. It never holds a secret, only paths.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eccoo.node.errors import ManifestError, NodeIndexError
from pydantic import BaseModel, Field, ValidationError

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
# Keys whose values are paths; on disk they are relative to the network folder.
_PATH_KEYS = {"keystore", "password_file", "datadir"}


class AccountRef(BaseModel):
    """A funded account whose key is an encrypted keystore with a 0600 password file."""

    name: str = ""
    address: str
    keystore: Path
    password_file: Path


class NodeEntry(BaseModel):
    """One geth node of one cooperative: ports on loopback, its signer key and its enode."""

    index: int
    signer: str
    validator: bool
    enode: str
    p2p_port: int
    http_port: int
    ws_port: int
    authrpc_port: int
    datadir: Path
    keystore: Path
    password_file: Path

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}"

    @property
    def name(self) -> str:
        return f"node-{self.index}"

    def ports(self) -> dict[str, int]:
        """Every port this node listens on, keyed by purpose (for busy-port errors)."""
        return {
            f"{self.name} p2p": self.p2p_port,
            f"{self.name} http": self.http_port,
            f"{self.name} ws": self.ws_port,
            f"{self.name} authrpc": self.authrpc_port,
        }


class NetworkManifest(BaseModel):
    """Chain parameters, nodes and funded accounts of one Clique network."""

    version: int = MANIFEST_VERSION
    chain_id: int
    period: int
    epoch: int = 30_000
    gas_limit: int
    genesis_hash: str
    netrestrict: str = "127.0.0.0/8"
    base_port: int
    nodes: list[NodeEntry]
    deployer: AccountRef
    relayers: list[AccountRef] = Field(min_length=1)
    # Where the manifest was loaded from; not stored in the file.
    dir: Path = Field(default=Path("."), exclude=True)

    @property
    def genesis_file(self) -> Path:
        return self.dir / "genesis.json"

    @property
    def validators(self) -> list[NodeEntry]:
        """Nodes that were genesis signers or admitted with `--validator`."""
        return [n for n in self.nodes if n.validator]

    def node(self, index: int) -> NodeEntry:
        for entry in self.nodes:
            if entry.index == index:
                return entry
        known = ", ".join(str(n.index) for n in self.nodes)
        raise NodeIndexError(f"no node {index} in this network (nodes: {known})", field="index")

    def rpc_url(self, index: int = 0) -> str:
        return self.node(index).rpc_url

    def ws_url(self, index: int = 0) -> str:
        return self.node(index).ws_url

    def enodes(self) -> list[str]:
        return [n.enode for n in self.nodes]

    def state_dir(self) -> Path:
        """Where pid and log files of the node processes live."""
        return self.dir / "run"


def manifest_path(network_dir: Path) -> Path:
    return Path(network_dir) / MANIFEST_NAME


def _walk_paths(value: Any, convert: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: convert(v) if k in _PATH_KEYS and v is not None else _walk_paths(v, convert)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk_paths(v, convert) for v in value]
    return value


def load_manifest(network_dir: Path) -> NetworkManifest:
    """Read `<network_dir>/manifest.json`; a missing or corrupt file raises `ManifestError`."""
    root = Path(network_dir).resolve()
    path = manifest_path(root)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: no network manifest here (run `eccoo network init --dir {network_dir}`)",
            field=str(path),
        ) from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: corrupt network manifest ({exc})", field=str(path)) from None
    if not isinstance(raw, dict):
        msg = f"{path}: corrupt network manifest (not a JSON object)"
        raise ManifestError(msg, field=str(path))
    absolute = _walk_paths(raw, lambda v: str(root / v))
    try:
        manifest = NetworkManifest.model_validate(absolute)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ManifestError(
            f"{path}: corrupt network manifest ({where}: {first['msg']})", field=str(path)
        ) from None
    manifest.dir = root
    return manifest


def save_manifest(manifest: NetworkManifest) -> Path:
    """Write the manifest atomically (temp file + rename), paths relative to its folder."""
    root = manifest.dir.resolve()
    data = manifest.model_dump(mode="json")

    def relative(value: str) -> str:
        p = Path(value)
        return str(p.relative_to(root)) if p.is_absolute() and p.is_relative_to(root) else value

    path = manifest_path(root)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(_walk_paths(data, relative), indent=2) + "\n")
    tmp.replace(path)
    return path
