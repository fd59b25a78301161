"""Decodes revert data into a custom error's name and arguments, using the contracts' ABIs.

Reads only: the selector table is built from artifacts; it never sends anything. Works on
the errors web3 raises for geth (ContractCustomError/ContractLogicError `.data`) and on
eth-tester's TransactionFailed (revert bytes in the message).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eccoo.client.abi import abi_type, signature
from eth_abi import decode
from eth_utils import keccak, to_checksum_address

# Solidity's built-in revert shapes.
_BUILTIN = {
    keccak(text="Error(string)")[:4]: ("Error", ["string"]),
    keccak(text="Panic(uint256)")[:4]: ("Panic", ["uint256"]),
}


@dataclass(frozen=True)
class DecodedRevert:
    name: str
    args: tuple[Any, ...]

    def __str__(self) -> str:
        shown = ", ".join(_show(a) for a in self.args)
        return f"{self.name}({shown})"


def _show(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def error_table(abis: Iterable[list[dict[str, Any]]]) -> dict[bytes, tuple[str, list[str]]]:
    """Selector -> (error name, argument types) for every `error` in the given ABIs."""
    table = dict(_BUILTIN)
    for abi in abis:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = [abi_type(p) for p in item.get("inputs", [])]
            selector = keccak(text=signature(item))[:4]
            table[selector] = (item["name"], types)
    return table


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert bytes carried by an exception from web3 or eth-tester, if any."""
    data = getattr(exc, "data", None)
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes):
        return data
    for arg in exc.args:
        # geth's JSON-RPC error through web3: the data as a lone argument or under "data".
        if isinstance(arg, str) and arg.startswith("0x"):
            return _hex_bytes(arg)
        if isinstance(arg, dict) and isinstance(arg.get("data"), str):
            return _hex_bytes(str(arg["data"]))
    message = str(exc.args[0]) if exc.args else ""
    marker = "execution reverted: "
    if marker in message:
        tail = message.split(marker, 1)[1].strip()
        if tail.startswith(("b'", 'b"')):
            value = ast.literal_eval(tail)
            return value if isinstance(value, bytes) else None
        if tail.startswith("0x"):
            return bytes.fromhex(tail[2:])
    return None


def _hex_bytes(text: str) -> bytes | None:
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        return None


def decode_revert(
    data: bytes | None, table: dict[bytes, tuple[str, list[str]]]
) -> DecodedRevert | None:
    """The custom error in `data`, or None when the data is empty or not in the table."""
    if not data or len(data) < 4 or data[:4] not in table:
        return None
    name, types = table[data[:4]]
    values = decode(types, data[4:])
    # eth_abi gives lower-case addresses; checksum them so they compare equal to web3's.
    return DecodedRevert(
        name,
        tuple(
            to_checksum_address(v) if t == "address" else v
            for t, v in zip(types, values, strict=True)
        ),
    )
