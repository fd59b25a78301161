"""Stage 2, decode: raw logs -> typed `LedgerEvent`s, using the deployed contracts' ABIs.

Values keep their exact type: integers stay Python ints (no float ever), bytes become
0x-hex, addresses lowercase hex. A log from an unknown contract or event is skipped,
never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eccoo.client.abi import abi_type
from eccoo.client.abi import signature as abi_signature
from eccoo.graph_sync.fetch import BlockHeader
from eth_abi import decode as abi_decode
from eth_utils import keccak


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    contract: str
    name: str
    args: dict[str, Any]
    block: int
    block_hash: str
    log_index: int
    tx_hash: str
    timestamp: int

    @property
    def key(self) -> tuple[str, int]:
        return (self.block_hash, self.log_index)


_STATIC_WORD = frozenset({"address", "bool", "bytes32", *(f"uint{n}" for n in range(8, 257, 8))})


def _word(kind: str, word: str) -> Any:
    """One 32-byte ABI word (64 hex chars) of a static type, decoded without eth_abi:
    the indexer decodes tens of thousands of these per second."""
    if kind == "address":
        return "0x" + word[24:].lower()
    if kind == "bytes32":
        return "0x" + word.lower()
    if kind == "bool":
        return int(word, 16) != 0
    return int(word, 16)  # uintN: big-endian, unsigned, exact


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class _EventSpec:
    contract: str
    name: str
    indexed: list[tuple[str, str]]  # (name, type)
    data: list[tuple[str, str]]
    order: list[str]

    @property
    def data_static(self) -> bool:
        return all(kind in _STATIC_WORD for _, kind in self.data)


class EventDecoder:
    """Knows every event of every deployed contract, by (address, topic0)."""

    def __init__(self, contracts: dict[str, tuple[str, list[dict[str, Any]]]]) -> None:
        """`contracts` maps name -> (address, abi)."""
        self._specs: dict[tuple[str, str], _EventSpec] = {}
        self.names: dict[str, list[str]] = {}
        for contract, (address, abi) in contracts.items():
            for item in abi:
                if item.get("type") != "event" or item.get("anonymous"):
                    continue
                inputs = item.get("inputs", [])
                signature = abi_signature(item)
                topic = "0x" + keccak(text=signature).hex()
                spec = _EventSpec(
                    contract,
                    item["name"],
                    [(p["name"], abi_type(p)) for p in inputs if p.get("indexed")],
                    [(p["name"], abi_type(p)) for p in inputs if not p.get("indexed")],
                    [p["name"] for p in inputs],
                )
                self._specs[(address.lower(), topic)] = spec
                self.names.setdefault(contract, []).append(item["name"])

    def decode(self, log: dict[str, Any], header: BlockHeader) -> LedgerEvent | None:
        topics = log["topics"]
        if not topics:
            return None
        spec = self._specs.get((log["address"].lower(), topics[0]))
        if spec is None:
            return None
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(spec.indexed, topics[1:], strict=True):
            if kind in _STATIC_WORD:
                args[name] = _word(kind, topic[2:])
            elif kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                args[name] = topic  # dynamic indexed values are stored as their hash
            else:
                args[name] = _plain(abi_decode([kind], bytes.fromhex(topic[2:]))[0])
        if spec.data:
            data = log["data"][2:]
            if spec.data_static and len(data) == 64 * len(spec.data):
                for i, (name, kind) in enumerate(spec.data):
                    args[name] = _word(kind, data[64 * i : 64 * i + 64])
            else:
                values = abi_decode([k for _, k in spec.data], bytes.fromhex(data))
                for (name, _), value in zip(spec.data, values, strict=True):
                    args[name] = _plain(value)
        return LedgerEvent(
            contract=spec.contract,
            name=spec.name,
            args={name: args[name] for name in spec.order},
            block=header.number,
            block_hash=header.hash,
            log_index=int(log["logIndex"], 16),
            tx_hash=log["transactionHash"],
            timestamp=header.timestamp,
        )
