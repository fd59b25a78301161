"""Bad input to `eccoo network`: one clear line, exit 2, nothing overwritten or started.

Runs the real `eccoo` command; networks are initialised (not started) in tmp folders,
except where a start attempt is the point, and those must leave no geth running.
"""

from __future__ import annotations

import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eccoo.node.api import init_network, load_manifest
from eccoo.node.errors import ManifestError
from eccoo.node.lifecycle import running_nodes
from fixtures.network import free_base_port


def eccoo(*args: str) -> subprocess.CompletedProcess[str]:
    code = "from eccoo.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
    )


def error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error")
    return lines[0]


@pytest.fixture
def network_dir(tmp_path) -> Path:
    target = tmp_path / "network"
    init_network(target, validators=2, relayers=1, base_port=free_base_port(2))
    return target


def test_init_writes_secret_files_0600(network_dir):
    manifest = load_manifest(network_dir)
    secrets = [manifest.deployer.keystore, manifest.deployer.password_file]
    for node in manifest.nodes:
        secrets += [node.keystore, node.password_file, node.datadir / "geth" / "nodekey"]
    for path in secrets:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_init_into_non_empty_folder_needs_force(tmp_path, network_dir):
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    line = error_line(eccoo("network", "init", "--dir", str(other)))
    assert str(other) in line and "--force" in line
    assert (other / "notes.txt").read_text() == "keep me"
    # --force replaces a network, never a folder that is not one.
    line = error_line(eccoo("network", "init", "--dir", str(other), "--force"))
    assert "not a network folder" in line
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]

    manifest_text = (network_dir / "manifest.json").read_text()
    line = error_line(eccoo("network", "init", "--dir", str(network_dir)))
    assert str(network_dir) in line
    assert (network_dir / "manifest.json").read_text() == manifest_text
    # No stage folder left behind by the failed attempts.
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_keystore_is_named_and_nothing_starts(network_dir):
    manifest = load_manifest(network_dir)
    keystore = manifest.node(1).keystore
    keystore.unlink()
    line = error_line(eccoo("network", "start", "--dir", str(network_dir), "--detach"))
    assert str(keystore) in line
    assert running_nodes(manifest) == []


def test_corrupted_manifest_is_named(network_dir):
    path = network_dir / "manifest.json"
    path.write_text('{"chain_id": 5, "nodes": [')
    line = error_line(eccoo("network", "status", "--dir", str(network_dir)))
    assert str(path) in line and "corrupt" in line
    path.write_text('{"chain_id": "five"}')
    with pytest.raises(ManifestError) as caught:
        load_manifest(network_dir)
    assert str(path) in caught.value.message


@pytest.mark.parametrize(
    "address",
    ["0x123", "not-an-address", "0x" + "g" * 40,
     # right length, wrong EIP-55 checksum (mixed case must be checksummed)
     "0xA5ff49e6f1c008A22c75D04d612cc6CA228b918f"],
)  # fmt: skip
def test_invalid_address_to_propose(network_dir, address):
    line = error_line(eccoo("network", "propose", "--dir", str(network_dir), "add", address))
    assert "address" in line and address in line


@pytest.mark.geth
def test_busy_port_is_named_and_nothing_starts(network_dir):
    manifest = load_manifest(network_dir)
    busy = manifest.node(1).ws_port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", busy))
        squatter.listen()
        line = error_line(eccoo("network", "start", "--dir", str(network_dir), "--detach"))
    assert str(busy) in line and "node-1 ws" in line
    assert running_nodes(manifest) == []
