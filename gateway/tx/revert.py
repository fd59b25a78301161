"""Decode a contract's custom error from revert data, by the selectors in the contracts' ABIs.

Meta-transactions lose the target's revert data inside the forwarder, so a failed one is
explained by replaying the inner call (forwarder as sender, ERC-2771 suffix) at its block
(`receipts.ReceiptFollower`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3 import Web3

STANDARD = {
    "08c379a0": ("Error", ["string"]),
    "4e487b71": ("Panic", ["uint256"]),
}


def _type_of(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in item["components"])
        return f"({inner}){kind[5:]}"
    return str(kind)


class RevertDecoder:
    """Maps 4-byte selectors to `(name, argument types)` from the given ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self.errors: dict[str, tuple[str, list[str]]] = dict(STANDARD)
        for abi in abis:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = [_type_of(i) for i in item.get("inputs", [])]
                selector = function_signature_to_4byte_selector(
                    f"{item['name']}({','.join(types)})"
                ).hex()
                self.errors[selector] = (item["name"], types)

    def decode(self, data: bytes | str | None) -> tuple[str, str | None]:
        """`(error name, JSON of its arguments)`; unknown data gives `("UnknownRevert", hex)`."""
        raw = (
            bytes.fromhex(data[2:] if data.startswith("0x") else data)
            if isinstance(data, str)
            else (data or b"")
        )
        if len(raw) < 4:
            return "Reverted", None
        name, types = self.errors.get(raw[:4].hex(), ("UnknownRevert", []))
        if name == "UnknownRevert":
            return name, json.dumps(["0x" + raw.hex()])
        try:
            values = abi_decode(types, raw[4:])
        except Exception:
            return name, json.dumps(["0x" + raw.hex()])
        return name, json.dumps([_jsonable(v) for v in values])

    def simulate(
        self, w3: Web3, call: dict[str, Any], block: int | str = "latest"
    ) -> tuple[str, str | None] | None:
        """Run `call`; None if it succeeds, else the decoded error."""
        try:
            w3.eth.call(call, block)  # type: ignore[arg-type]
        except Exception as exc:
            return self.decode(revert_data(exc))
        return None


def revert_data(exc: Exception) -> str | None:
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return data
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, str) and arg.startswith("0x"):
            return arg
        if isinstance(arg, dict) and isinstance(arg.get("data"), str):
            return str(arg["data"])
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) > 2**53 else value
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return value
