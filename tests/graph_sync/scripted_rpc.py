"""SCRIPTED RPC -- the one fake of graph_sync's tests, named as such.

A real network will not reorganise on demand, so this JSON-RPC server serves a chain
the test scripts (blocks, hashes, parents, logs) and can swap its tip for another
branch. It answers only the calls the indexer makes; everything else is an error.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth_abi import encode
from eth_utils import keccak

COIN = "0x" + "c0" * 20
MEMBERSHIP = "0x" + "3e" * 20
TRANSFER_ABI = {
    "type": "event",
    "name": "Transfer",
    "anonymous": False,
    "inputs": [
        {"name": "from", "type": "address", "indexed": True},
        {"name": "to", "type": "address", "indexed": True},
        {"name": "value", "type": "uint256", "indexed": False},
    ],
}
HAT_ABIS = [
    {
        "type": "event",
        "name": name,
        "anonymous": False,
        "inputs": [
            {"name": "account", "type": "address", "indexed": True},
            {"name": "hat", "type": "uint8", "indexed": True},
            {"name": "by", "type": "address", "indexed": True},
        ],
    }
    for name in ("HatGranted", "HatRevoked")
]


def address(n: int) -> str:
    return "0x" + f"{n:040x}"


def _topic(value: bytes) -> str:
    return "0x" + value.rjust(32, b"\0").hex()


def transfer(sender: str, to: str, value: int) -> dict[str, Any]:
    return {
        "address": COIN,
        "topics": [
            "0x" + keccak(text="Transfer(address,address,uint256)").hex(),
            _topic(bytes.fromhex(sender[2:])),
            _topic(bytes.fromhex(to[2:])),
        ],
        "data": "0x" + encode(["uint256"], [value]).hex(),
    }


def hat(name: str, account: str, hat_id: int, by: str) -> dict[str, Any]:
    return {
        "address": MEMBERSHIP,
        "topics": [
            "0x" + keccak(text=f"{name}(address,uint8,address)").hex(),
            _topic(bytes.fromhex(account[2:])),
            _topic(bytes([hat_id])),
            _topic(bytes.fromhex(by[2:])),
        ],
        "data": "0x",
    }


@dataclass
class ScriptedChain:
    chain_id: int = 990_001
    blocks: list[dict[str, Any]] = field(default_factory=list)
    branch: str = "a"

    def __post_init__(self) -> None:
        self.blocks.append(self._block(0, "0x" + "00" * 32, []))

    def _block(self, number: int, parent: str, logs: list[dict[str, Any]]) -> dict[str, Any]:
        block_hash = "0x" + keccak(text=f"{self.branch}:{number}:{parent}").hex()
        full = []
        for i, log in enumerate(logs):
            full.append(
                {
                    **log,
                    "blockNumber": hex(number),
                    "blockHash": block_hash,
                    "logIndex": hex(i),
                    "transactionIndex": "0x0",
                    "removed": False,
                    "transactionHash": "0x" + keccak(text=f"{block_hash}:{i}").hex(),
                }
            )
        return {
            "number": number,
            "hash": block_hash,
            "parent": parent,
            "timestamp": 1_700_000_000 + number,
            "logs": full,
        }

    def mine(self, logs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        tip = self.blocks[-1]
        block = self._block(tip["number"] + 1, tip["hash"], logs or [])
        self.blocks.append(block)
        return block

    def reorg(self, depth: int, branch: str, new_blocks: list[list[dict[str, Any]]]) -> None:
        """Replace the last `depth` blocks by `new_blocks` (a competing branch)."""
        del self.blocks[len(self.blocks) - depth :]
        self.branch = branch
        for logs in new_blocks:
            self.mine(logs)

    def logs(self) -> list[dict[str, Any]]:
        return [log for block in self.blocks for log in block["logs"]]

    def write_deployment(self, path: Path) -> Path:
        path.write_text(
            json.dumps(
                {
                    "chain_id": self.chain_id,
                    "contracts": {
                        "CareCoin": {
                            "address": COIN,
                            "abi": [TRANSFER_ABI],
                            "block": 1,
                            "tx": "0x",
                        },
                        "Membership": {
                            "address": MEMBERSHIP,
                            "abi": HAT_ABIS,
                            "block": 1,
                            "tx": "0x",
                        },
                    },
                }
            )
        )
        return path

    # ------------------------------------------------------------------ JSON-RPC
    def answer(self, method: str, params: list[Any]) -> Any:
        if method == "eth_chainId":
            return hex(self.chain_id)
        if method == "eth_blockNumber":
            return hex(self.blocks[-1]["number"])
        if method == "eth_getBlockByNumber":
            tag = params[0]
            number = self.blocks[-1]["number"] if tag == "latest" else int(tag, 16)
            if number >= len(self.blocks):
                return None
            b = self.blocks[number]
            return {
                "number": hex(b["number"]),
                "hash": b["hash"],
                "parentHash": b["parent"],
                "timestamp": hex(b["timestamp"]),
            }
        if method == "eth_getLogs":
            query = params[0]
            first, last = int(query["fromBlock"], 16), int(query["toBlock"], 16)
            wanted = {a.lower() for a in query["address"]}
            return [
                log
                for b in self.blocks[first : last + 1]
                for log in b["logs"]
                if log["address"] in wanted
            ]
        raise ValueError(f"the scripted RPC does not serve {method}")


class ScriptedRpc:
    """Serves a ScriptedChain over HTTP on a free loopback port (a thread, not a process)."""

    def __init__(self, chain: ScriptedChain) -> None:
        self.chain = chain
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                calls = body if isinstance(body, list) else [body]
                out = []
                with lock:
                    for call in calls:
                        try:
                            result = chain.answer(call["method"], call.get("params", []))
                            out.append({"jsonrpc": "2.0", "id": call["id"], "result": result})
                        except ValueError as exc:
                            out.append(
                                {
                                    "jsonrpc": "2.0",
                                    "id": call["id"],
                                    "error": {"code": -32601, "message": str(exc)},
                                }
                            )
                raw = json.dumps(out if isinstance(body, list) else out[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedRpc:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
