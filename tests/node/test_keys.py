"""Keystores the nodes can unlock: geth needs the AES-CTR IV as the full 16 bytes."""

from __future__ import annotations

import json
from pathlib import Path

import eth_keyfile.keyfile
import pytest
from eccoo.node.keys import create_account, load_account


def test_an_iv_with_a_leading_zero_byte_is_written_in_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # eth-keyfile writes the IV as an integer; 1 key in 256 starts with a zero byte, which
    # it drops, and geth then panics with "bad IV length" when it unlocks the signer.
    monkeypatch.setattr(
        eth_keyfile.keyfile.Random, "get_random_bytes", lambda n: b"\x00" + b"\x5a" * (n - 1)
    )
    ref = create_account(tmp_path / "keystore.json", tmp_path / "password")
    iv = json.loads(ref.keystore.read_text())["crypto"]["cipherparams"]["iv"]
    assert iv == "00" + "5a" * 15
    assert load_account(ref).address == ref.address
