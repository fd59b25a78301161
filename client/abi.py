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


def named_output(abi: list[dict[str, Any]], fn: str, value: Any) -> dict[str, Any]:
    """A view function's result by the names the contract gives its fields: a returned
    struct (`appointmentOf(id).status`) or several named outputs, never `a[5]`."""
    item = next(i for i in abi if i.get("type") == "function" and i.get("name") == fn)
    outputs = item.get("outputs", [])
    if len(outputs) == 1 and str(outputs[0]["type"]) == "tuple":
        fields, values = outputs[0]["components"], value
    else:
        fields, values = outputs, value if len(outputs) > 1 else (value,)
    return {str(f["name"]): v for f, v in zip(fields, values, strict=True)}
