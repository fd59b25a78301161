"""Decode a contract's custom error from revert data, by the selectors in the contracts' ABIs.

Meta-transactions lose the target's revert data inside the forwarder, so a failed one is
explained by replaying the inner call (forwarder as sender, ERC-2771 suffix) at its block
(`receipts.ReceiptFollower`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eccoo.client.revert import decode_revert, error_table, revert_data
from web3 import Web3


class RevertDecoder:
    """The ledger client's error table, answering in the shape the transaction store keeps:
    `(error name, JSON of its arguments)`."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self.table = error_table(abis)

    def decode(self, data: bytes | str | None) -> tuple[str, str | None]:
        """`(error name, JSON of its arguments)`; unknown data gives `("UnknownRevert", hex)`."""
        raw = (
            bytes.fromhex(data[2:] if data.startswith("0x") else data)
            if isinstance(data, str)
            else (data or b"")
        )
        if len(raw) < 4:
            return "Reverted", None
        if raw[:4] not in self.table:
            return "UnknownRevert", json.dumps(["0x" + raw.hex()])
        try:
            decoded = decode_revert(raw, self.table)
        except Exception:  # malformed arguments after a known selector
            return self.table[raw[:4]][0], json.dumps(["0x" + raw.hex()])
        assert decoded is not None
        return decoded.name, json.dumps([_jsonable(v) for v in decoded.args])

    def simulate(
        self, w3: Web3, call: dict[str, Any], block: int | str = "latest"
    ) -> tuple[str, str | None] | None:
        """Run `call`; None if it succeeds, else the decoded error."""
        try:
            w3.eth.call(call, block)  # type: ignore[arg-type]
        except Exception as exc:
            return self.decode(revert_data(exc))
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        # JSON readers lose integers past 2**53: larger ones travel as decimal strings.
        return str(value) if abs(value) > 2**53 else value
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return value
