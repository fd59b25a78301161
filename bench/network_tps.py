"""Sustained value-transfer throughput of the 4-validator Clique network (period 1, 30M gas).

Pre-signs N transfers from many senders, then measures two ways of sending the same
load in one run: a naive baseline (one `eth_sendRawTransaction` per HTTP call, all to
node 0) and the tuned path (JSON-RPC batches, spread over all nodes, in parallel).
Writes docs/bench/network_tps.{json,md}. Not a test; never run by the suite. The sender
keys are throwaway (derived from a fixed seed, funded in this run's genesis only).

    .venv/bin/python bench/network_tps.py [--txs 20000] [--senders 400] [--rate 800]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import rlp
from coincurve import PrivateKey
from eccoo.node import api
from eccoo.node.create import PORT_STRIDE
from eccoo.node.manifest import NetworkManifest
from eth_hash.auto import keccak

from eccoo.engines import GETH_VERSION
from eccoo.services.process import port_is_free
from eccoo.settings import REPO_ROOT

GAS_PER_TRANSFER = 21_000
# Legacy gasPrice far above any base fee this run reaches: full blocks raise the base
# fee 12.5% each, and a transfer priced under it would wait forever.
GAS_PRICE = 1_000 * 10**9
OUT_DIR = REPO_ROOT / "docs" / "bench"


@dataclass
class SignedTransfer:
    raw: str
    tx_hash: str
    node: int
    sent_at: float = 0.0


@dataclass
class Phase:
    name: str
    transfers: list[SignedTransfer]
    blocks: list[dict] = field(default_factory=list)


def sender_keys(count: int) -> list[PrivateKey]:
    return [PrivateKey(keccak(b"eccoo-bench-sender-%d" % i)) for i in range(count)]


def address_of(key: PrivateKey) -> str:
    return "0x" + keccak(key.public_key.format(compressed=False)[1:])[-20:].hex()


def sign_transfer(key: PrivateKey, nonce: int, to: bytes, chain_id: int) -> tuple[str, str]:
    """An EIP-155 legacy transfer signed with coincurve (~30x faster than eth_account)."""
    fields = [nonce, GAS_PRICE, GAS_PER_TRANSFER, to, 1, b""]
    digest = keccak(rlp.encode([*fields, chain_id, 0, 0]))
    signature = key.sign_recoverable(digest, hasher=None)
    r, s, recid = signature[:32], signature[32:64], signature[64]
    raw = rlp.encode([*fields, recid + 35 + 2 * chain_id, int.from_bytes(r), int.from_bytes(s)])
    return "0x" + raw.hex(), "0x" + keccak(raw).hex()


def build_phase(name: str, keys: list[PrivateKey], first_nonce: int, per_sender: int,
                chain_id: int, nodes: int) -> Phase:  # fmt: skip
    sinks = [keccak(b"sink-%d" % i)[-20:] for i in range(1000)]
    transfers = []
    # Interleave senders so every batch carries many accounts, in nonce order per sender.
    for k in range(per_sender):
        for i, key in enumerate(keys):
            raw, tx_hash = sign_transfer(key, first_nonce + k, sinks[(i + k) % 1000], chain_id)
            transfers.append(SignedTransfer(raw, tx_hash, node=i % nodes))
    return Phase(name, transfers)


class BlockWatcher:
    """Polls node 0 for new blocks and records when each transaction was first seen.

    Clique forks briefly when two signers seal out of turn at once, so the last few
    heights are re-read every poll and replaced when the canonical block changed.
    """

    RECHECK = 4

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=30)
        self.lock = threading.Lock()
        self.first_seen: dict[str, float] = {}  # tx hash -> when first seen in a block
        self.tx_block: dict[str, int] = {}  # tx hash -> canonical block number
        self.blocks: dict[int, dict] = {}
        self.stop = threading.Event()
        self.first_block = self._head() + 1
        self.next_block = self.first_block

    def _call(self, method: str, params: list) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return self.client.post(self.url, json=body).json()["result"]

    def _head(self) -> int:
        return int(self._call("eth_blockNumber", []), 16)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._poll()
            except (httpx.HTTPError, KeyError, TypeError):
                pass  # a slow or busy node: poll again
            time.sleep(0.1)

    def _poll(self) -> None:
        head = self._head()
        for number in range(max(self.first_block, self.next_block - self.RECHECK), head + 1):
            block = self._call("eth_getBlockByNumber", [hex(number), False])
            known = self.blocks.get(number)
            if known is not None and known["hash"] == block["hash"]:
                continue
            now = time.monotonic()
            with self.lock:
                self.blocks[number] = {
                    "number": number,
                    "hash": block["hash"],
                    "timestamp": int(block["timestamp"], 16),
                    "gas_used": int(block["gasUsed"], 16),
                    "gas_limit": int(block["gasLimit"], 16),
                    "txs": len(block["transactions"]),
                }
                for tx_hash in block["transactions"]:
                    self.first_seen.setdefault(tx_hash, now)
                    self.tx_block[tx_hash] = number
        self.next_block = max(self.next_block, head + 1)

    def included(self, hashes: set[str]) -> set[str]:
        with self.lock:
            return {h for h in hashes if h in self.tx_block}


def send_one_by_one(phase: Phase, urls: list[str]) -> None:
    """Baseline: what a naive client does: one HTTP request per transaction, one node."""
    with httpx.Client(timeout=60) as client:
        for i, tx in enumerate(phase.transfers):
            body = {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction",
                    "params": [tx.raw]}  # fmt: skip
            tx.sent_at = time.monotonic()
            reply = client.post(urls[0], json=body).json()
            if "error" in reply:
                raise RuntimeError(f"baseline send failed: {reply['error']}")


def send_batched(phase: Phase, urls: list[str], batch: int, rate: float = 0.0) -> None:
    """Tuned: JSON-RPC batches, each node fed its own senders by its own thread.

    With `rate` (tx/s over all nodes) the batches are paced; 0 sends as fast as possible.
    """
    began = time.monotonic()

    def feed(node: int) -> None:
        mine = [tx for tx in phase.transfers if tx.node == node]
        with httpx.Client(timeout=120) as client:
            for start in range(0, len(mine), batch):
                if rate:
                    due = began + start * len(urls) / rate
                    time.sleep(max(0.0, due - time.monotonic()))
                chunk = mine[start : start + batch]
                body = [{"jsonrpc": "2.0", "id": j, "method": "eth_sendRawTransaction",
                         "params": [tx.raw]} for j, tx in enumerate(chunk)]  # fmt: skip
                sent = time.monotonic()
                for tx in chunk:
                    tx.sent_at = sent
                replies = client.post(urls[node], json=body).json()
                errors = [r["error"] for r in replies if "error" in r]
                if errors:
                    raise RuntimeError(f"batched send failed: {errors[0]}")

    with ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(feed, range(len(urls))))


def run_phase(phase: Phase, watcher: BlockWatcher, send, timeout: float) -> dict:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    send()
    send_done = time.monotonic()
    wanted = {tx.tx_hash for tx in phase.transfers}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(watcher.included(wanted)) < len(wanted):
        time.sleep(0.2)
    time.sleep(1)  # one more poll, so a last-moment fork is re-read
    done = watcher.included(wanted)
    included = [tx for tx in phase.transfers if tx.tx_hash in done]
    with watcher.lock:
        numbers = sorted({watcher.tx_block[tx.tx_hash] for tx in included})
        blocks = [dict(watcher.blocks[n]) for n in range(numbers[0], numbers[-1] + 1)]
        seen = {tx.tx_hash: watcher.first_seen[tx.tx_hash] for tx in included}
    last_seen = max(seen.values())
    duration = last_seen - started
    latencies = sorted(seen[tx.tx_hash] - tx.sent_at for tx in included)
    third = max(1, len(blocks) // 3)

    def window_tps(window: list[dict], before: dict | None) -> float:
        span = window[-1]["timestamp"] - (before or window[0])["timestamp"]
        span = span or 1
        return sum(b["txs"] for b in window) / span

    first = window_tps(blocks[:third], watcher.blocks.get(blocks[0]["number"] - 1))
    last = window_tps(blocks[-third:], blocks[-third - 1] if len(blocks) > third else None)
    return {
        "name": phase.name,
        "transactions": len(phase.transfers),
        "included": len(included),
        "missing": len(wanted) - len(done),
        "send_seconds": round(send_done - started, 2),
        "duration_seconds": round(duration, 2),
        "tps": round(len(included) / duration, 1),
        "blocks": len(blocks),
        "block_fullness": round(statistics.mean(b["gas_used"] / b["gas_limit"] for b in blocks), 3),
        "max_txs_in_a_block": max(b["txs"] for b in blocks),
        "latency_p50_seconds": round(latencies[len(latencies) // 2], 2),
        "latency_p95_seconds": round(latencies[int(len(latencies) * 0.95)], 2),
        "first_third_tps": round(first, 1),
        "last_third_tps": round(last, 1),
        "last_over_first": round(last / first, 2) if first else None,
    }


def free_base(nodes: int) -> int:
    for base in range(24_000, 32_000, 100):  # below the ephemeral range
        if all(port_is_free(p) for p in range(base, base + PORT_STRIDE * nodes)):
            return base
    raise RuntimeError("no free ports")


def write_report(result: dict) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "network_tps.json").write_text(json.dumps(result, indent=2) + "\n")
    rows = [
        ("TPS", "tps"),
        ("ceiling gasLimit/(21000 x period)", None),
        ("TPS / ceiling", "ratio"),
        ("block fullness (mean gasUsed/gasLimit)", "block_fullness"),
        ("largest block (txs)", "max_txs_in_a_block"),
        ("inclusion latency p50 (s)", "latency_p50_seconds"),
        ("inclusion latency p95 (s)", "latency_p95_seconds"),
        ("first-third TPS", "first_third_tps"),
        ("last-third TPS", "last_third_tps"),
        ("last third / first third", "last_over_first"),
        ("time to hand all txs to geth (s)", "send_seconds"),
        ("first send to last inclusion (s)", "duration_seconds"),
        ("transactions included / sent", None),
        ("machine load average (1 min) before / after", "load_avg_1min"),
    ]
    phases = result["phases"]
    lines = [
        "# Network throughput: pre-signed value transfers",
        "",
        f"{result['validators']} validators, period {result['period']} s, gas limit "
        f"{result['gas_limit']:,}, {result['transactions']:,} transfers per phase from "
        f"{result['senders']} senders, geth {result['geth']}, {result['cpus']} CPU cores "
        f"({result['machine']}), {result['date']}. All phases ran on the same network in "
        "the same run, in the order shown (baseline first).",
        "",
        "| metric | " + " | ".join(p["label"] for p in phases) + " |",
        "|---|" + "---|" * len(phases),
    ]
    for label, key in rows:
        if key is None and label.startswith("ceiling"):
            cells = [f"{result['ceiling_tps']:.1f}"] * len(phases)
        elif key is None:
            cells = [f"{p['included']:,} / {p['transactions']:,}" for p in phases]
        else:
            cells = [str(p[key]) for p in phases]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", result["notes"], ""]
    (OUT_DIR / "network_tps.md").write_text("\n".join(lines))


PHASES = {
    "baseline": "baseline: 1 tx per HTTP call, node 0 only",
    "burst": "batched: batches of {batch}, 4 nodes in parallel, all at once",
    "paced": "paced: batches of {batch}, 4 nodes, offered at {rate:.0f} tx/s",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=20_000, help="transfers per phase")
    parser.add_argument("--senders", type=int, default=400)
    parser.add_argument("--batch", type=int, default=200, help="JSON-RPC batch size")
    parser.add_argument("--rate", type=float, default=800.0, help="offered tx/s when paced")
    parser.add_argument("--phases", default="baseline,burst,paced")
    parser.add_argument("--no-write", action="store_true", help="print only (exploring)")
    args = parser.parse_args()
    names = args.phases.split(",")
    per_sender = -(-args.txs // args.senders)
    keys = sender_keys(args.senders)
    network_dir = Path(tempfile.mkdtemp(prefix="eccoo-bench-")) / "network"
    prefund = {address_of(k): 100 * 10**18 for k in keys}
    manifest: NetworkManifest = api.init_network(
        network_dir, validators=4, period=1, gas_limit=30_000_000,
        base_port=free_base(8), prefund=prefund)  # fmt: skip
    print(f"network in {network_dir}; starting")
    api.start_network(network_dir)
    results = []
    try:
        urls = [n.rpc_url for n in manifest.nodes]
        t = time.monotonic()
        phases = [build_phase(name, keys, k * per_sender, per_sender, manifest.chain_id,
                              len(urls)) for k, name in enumerate(names)]  # fmt: skip
        print(f"signed {sum(len(p.transfers) for p in phases):,} transfers in "
              f"{time.monotonic() - t:.1f}s")  # fmt: skip
        watcher = BlockWatcher(urls[0])
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        for phase in phases:
            senders = {
                "baseline": lambda p=phase: send_one_by_one(p, urls),
                "burst": lambda p=phase: send_batched(p, urls, args.batch),
                "paced": lambda p=phase: send_batched(p, urls, args.batch, args.rate),
            }
            print(f"phase {phase.name}: sending {len(phase.transfers):,}")
            load_before = os.getloadavg()[0]
            result = run_phase(phase, watcher, senders[phase.name], timeout=600)
            # The 2 cores are shared: the load says how much else ran meanwhile.
            result["load_avg_1min"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
            result["label"] = PHASES[phase.name].format(batch=args.batch, rate=args.rate)
            result["ratio"] = round(result["tps"] / (30_000_000 / GAS_PER_TRANSFER), 3)
            print(json.dumps(result))
            results.append(result)
            time.sleep(3)  # let the base fee settle and the pools empty between phases
        watcher.stop.set()
        thread.join()
    finally:
        api.stop_network(network_dir)
    # Keys and chain data of this run are throwaway; on failure they stay for the logs.
    shutil.rmtree(network_dir.parent, ignore_errors=True)
    report = {
        "validators": 4,
        "period": 1,
        "gas_limit": 30_000_000,
        "transactions": args.txs,
        "senders": args.senders,
        "batch": args.batch,
        "rate": args.rate,
        "ceiling_tps": round(30_000_000 / (GAS_PER_TRANSFER * 1), 1),
        "geth": GETH_VERSION,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        "phases": results,
        "notes": NOTES,
    }
    if not args.no_write:
        write_report(report)
        print(f"wrote {OUT_DIR / 'network_tps.md'}")


NOTES = """\
How to read it. TPS = transfers included / (first send to the block that held the last
one, seen on node 0). Ceiling = gasLimit / (21,000 gas x period) = 1,428.6: a block holds
at most 1,428 transfers. Latency = block first seen minus the moment the transfer was
handed to geth; in the burst phase it is mostly queueing behind the backlog the burst
creates, in the paced phase it shows whether the offered rate is sustainable.
First/last third: blocks from the first to the last one carrying the phase's transfers,
split in three by count, transfers over elapsed block time in each.

Where the time goes (geth logs at verbosity 3 during the burst phase):
- One transaction per HTTP call (baseline) is limited by the client: each call is a
  round trip through geth's HTTP server and its own txpool insertion, so transfers reach
  the pool at a few hundred a second and blocks stay 15-25% full. Batches of 200 over
  one keep-alive connection per node, four nodes in parallel, hand the same 20,000
  transfers over in about 11-13 s, and blocks fill to the 1,428-transfer limit.
- Raised txpool limits are what make the batches land: each sender has 50 transfers
  in flight, more than geth's default 16 executable per account (the rest would be
  queued, 64 max), and 20,000 pending is far over the default 5,120 pool-wide; eccoo
  starts geth with 2,048 per account and 65,536 pool-wide.
- With full blocks, the interval grows above the 1 s period: every signer builds the
  full 1,428-transfer block in parallel (0.3-1.3 s of CPU each on these shared cores),
  then every node executes the winner's block, and every node also recovers the
  sender of all 20,000 gossiped transfers. That is about 8x the CPU of executing the
  block once, on 2 cores; out-of-turn signers sometimes seal the same height and
  one block is thrown away. The two cores were shared with other test suites during
  this run (load averages in the table), so the figures are a floor.
- The gas limit is the hard cap: even with free CPU no block carries more than 1,428
  transfers at 30M gas.
"""

if __name__ == "__main__":
    main()
