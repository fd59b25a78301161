"""The pinned toolchain: geth's version, the solc wrapper, and the two README commands."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import solcx

from eccoo.engines import GETH_VERSION, SOLC_VERSION, engine_paths
from eccoo.settings import REPO_ROOT

OZ = "@openzeppelin/contracts/"


def test_geth_is_the_pinned_release():
    out = subprocess.run(
        [str(engine_paths().geth), "version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Version: {GETH_VERSION}-stable" in out


def test_solc_wrapper_answers_version_like_native_solc():
    out = subprocess.run(
        [str(engine_paths().solc), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(rf"Version: {re.escape(SOLC_VERSION)}\+commit\.[0-9a-f]+", out)


def test_py_solc_x_finds_the_wrapper_without_downloading():
    versions = [str(v) for v in solcx.get_installed_solc_versions()]
    assert SOLC_VERSION in versions


def test_large_standard_json_output_arrives_whole_on_a_pipe():
    # Every OpenZeppelin token and access contract at once: several MB of output, the
    # size at which the stock `solcjs` command truncates its output on a pipe.
    oz = engine_paths().openzeppelin
    sources = {
        f"@openzeppelin/contracts/{p.relative_to(oz)}": {"urls": [str(p)]}
        for folder in ("token", "access", "metatx", "finance", "proxy")
        for p in sorted((oz / folder).rglob("*.sol"))
        # transient storage and mcopy need Cancun, which Clique cannot run: left out
        if "Transient" not in p.read_text() and "Bytes.sol" not in p.read_text()
    }
    for path in list(sources):
        sources[path] = {
            "content": (oz / path.removeprefix("@openzeppelin/contracts/")).read_text()
        }
    standard_input = {
        "language": "Solidity",
        "sources": sources,
        "settings": {
            "evmVersion": "paris",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "metadata"]}},
            "remappings": [f"@openzeppelin/contracts/={oz}/"],
        },
    }
    proc = subprocess.run(
        [str(engine_paths().solc), "--standard-json", "--base-path", str(oz)],
        input=json.dumps(standard_input),
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(proc.stdout) > 1_000_000
    output = json.loads(proc.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    # Files that need opcodes newer than paris fail on purpose; the ERC-20/Permit and
    # forwarder stack this project uses must not.
    assert (
        "ERC20Permit"
        in output["contracts"]["@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol"]
    )
    assert (
        "ERC2771Forwarder"
        in output["contracts"]["@openzeppelin/contracts/metatx/ERC2771Forwarder.sol"]
    )
    assert not [e for e in errors if "ERC20Permit" in e.get("sourceLocation", {}).get("file", "")]


def test_unsupported_solc_mode_is_one_clear_error():
    proc = subprocess.run(
        [str(engine_paths().solc), "--bin", "x.sol"], capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert "only --version and --standard-json" in proc.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    commands = re.findall(r"^(scripts/bootstrap && \.venv/bin/eccoo \w+)", readme, re.M)
    assert commands[:2] == [
        "scripts/bootstrap && .venv/bin/eccoo up",
        "scripts/bootstrap && .venv/bin/eccoo test",
    ]
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci


@pytest.mark.parametrize(
    "argv",
    [
        ["network", "start", "--dir", "/nonexistent/eccoo-net"],
        ["services", "status", "nosuchengine"],
    ],
)
def test_cli_bad_input_is_one_line_and_nonzero(argv):
    proc = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "eccoo"), *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
