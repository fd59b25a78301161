"""ABI vocabulary shared by the ledger client, the graph mirror and the gateway: the
canonical type string of a parameter and the signature of an event or error, as selectors
and topics are hashed from them. Pure functions over ABI JSON; nothing here talks to a node.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def abi_type(param: Mapping[str, Any]) -> str:
    """`uint256`, `address[]`, or a tuple spelled out: `(address,uint256)[]`."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def signature(item: Mapping[str, Any]) -> str:
    """`Transfer(address,address,uint256)`: what a selector or an event topic hashes."""
    return f"{item['name']}({','.join(abi_type(p) for p in item.get('inputs', []))})"
