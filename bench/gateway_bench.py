"""Gateway benchmark, in one run on one fresh stack (Keycloak, 4-validator Clique, contracts).

1. confirmed CareCoin transfers per second through the gateway (authenticated, one
   Idempotency-Key each, ERC-2771 relayed) against pre-signed CareCoin transfers sent
   straight to the node; 2. p95 time to acknowledge a submission at an offered load equal
   to the direct throughput; 3. secp256k1 signing, coincurve vs the pure-Python backend;
   4. JWT verifications per second with cached keys. Writes docs/bench/gateway.{json,md}.
   The gateway runs as `eccoo gateway run` does (API process + transaction worker
   process), so the load generator does not share its interpreter. Phases 1 and 2 run
   `--rounds` times on the same stack; the report gives each round and their medians.
   Placements: `shared` lets validators, Keycloak and the gateway compete for every CPU;
   `split` pins the validators and Keycloak to the last CPU and the gateway to the others
   (validators on machines of their own, as in production); `both` (default) runs shared,
   then split, on the same stack. CPU seconds per process group are read from /proc. Not a test.
   Throwaway keys and users only; every process it starts is stopped.

    .venv/bin/python bench/gateway_bench.py [--transfers 400] [--members 16] [--rounds 3]
        [--placement shared|split|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import secrets
import sqlite3
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp
import httpx
import uvicorn
from eccoo.client.deploy import deploy, poa_web3
from eccoo.client.deployment import load_deployment
from eccoo.gateway.api.app import create_app
from eccoo.gateway.identity.realm import KeycloakAdmin, ensure_realm
from eccoo.gateway.identity.tokens import TokenValidator
from eccoo.gateway.settings import GatewaySettings
from eccoo.node import api
from eccoo.node.create import PORT_STRIDE
from eccoo.node.keys import load_account
from eth_account import Account
from eth_keys import KeyAPI
from eth_keys.backends import CoinCurveECCBackend, NativeECCBackend
from eth_utils import keccak

from eccoo.services.keycloak import KeycloakService, KeycloakSettings
from eccoo.services.process import free_port, port_is_free
from eccoo.settings import REPO_ROOT

OUT_DIR = REPO_ROOT / "docs" / "bench"
CONFIRMATIONS = 2
BLOCK_SECONDS = 1.0  # the Clique period the benchmark's network is made with
GAS_PRICE = 100 * 10**9


def free_base(nodes: int) -> int:
    for _ in range(200):
        base = random.randrange(20_000, 55_000, PORT_STRIDE)
        if all(port_is_free(p) for p in range(base, base + PORT_STRIDE * (nodes + 2))):
            return base
    raise RuntimeError("no free port block")


def cpu_seconds(gateway_pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) used so far, by process group: geth, keycloak, the
    gateway's API process, its transaction worker, this process; read from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    groups = dict.fromkeys(("geth", "keycloak", "gateway", "worker", "bench"), 0.0)
    for entry, cmdline, fields in _processes():
        used = (int(fields[11]) + int(fields[12])) / tick
        pid = int(entry.name)
        if pid == os.getpid():
            groups["bench"] += used
        elif pid == gateway_pid:
            groups["gateway"] += used
        elif gateway_pid is not None and int(fields[1]) == gateway_pid:
            groups["worker"] += used
        elif b"geth" in cmdline.split(b"\0")[0]:
            groups["geth"] += used
        elif b"keycloak" in cmdline:
            groups["keycloak"] += used
    return groups


def _processes() -> list[tuple[Path, bytes, list[str]]]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                found.append(
                    (entry, (entry / "cmdline").read_bytes(), stat.rsplit(")", 1)[1].split())
                )
            except OSError:
                continue
    return found


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before[k], 2) for k in before}


def place(gateway_pid: int) -> dict[str, list[int]]:
    """`split` placement: validators and Keycloak on the last CPU, the gateway elsewhere."""
    cpus = sorted(os.sched_getaffinity(0))
    chain_cpus, gateway_cpus = {cpus[-1]}, set(cpus[:-1]) or {cpus[-1]}
    for entry, cmdline, fields in _processes():
        pid = int(entry.name)
        if b"geth" in cmdline.split(b"\0")[0] or b"keycloak" in cmdline:
            target = chain_cpus
        elif pid == gateway_pid or int(fields[1]) == gateway_pid:
            target = gateway_cpus
        else:
            continue
        for task in (entry / "task").iterdir():  # every thread, not just the main one
            try:
                os.sched_setaffinity(int(task.name), target)
            except OSError:
                pass
    return {"validators_and_keycloak": sorted(chain_cpus), "gateway": sorted(gateway_cpus)}


def mid(values: Any) -> float:
    return round(median(values), 3)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def token_for(realm: Any, username: str, password: str) -> str:
    reply = httpx.post(
        realm.token_endpoint,
        data={
            "grant_type": "password",
            "client_id": "eccoo-test",
            "client_secret": realm.client_secret("eccoo-test"),
            "username": username,
            "password": password,
        },
        timeout=30,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


class Stack:
    def __init__(
        self,
        root: Path,
        keycloak_url: str | None,
        admin_password_file: str | None,
        direct_senders: list[Any],
    ) -> None:
        self.root = root
        self.keycloak: KeycloakService | None = None
        if keycloak_url:
            self.kc_endpoint: Any = type(
                "E",
                (),
                {
                    "base_url": keycloak_url,
                    "admin_user": "admin",
                    "admin_password_file": Path(admin_password_file or ""),
                },
            )()
        else:
            self.keycloak = KeycloakService(
                KeycloakSettings(
                    data_dir=root / "keycloak", http_port=free_port(), management_port=free_port()
                )
            )
            self.kc_endpoint = self.keycloak.start()
        self.realm = ensure_realm(self.kc_endpoint, root / "kc")
        self.net = root / "network"
        api.init_network(
            self.net,
            validators=4,
            period=int(BLOCK_SECONDS),
            base_port=free_base(4),
            prefund={a.address: 10**21 for a in direct_senders},
        )
        self.manifest = api.start_network(self.net)
        deploy(self.net)
        self.w3 = poa_web3(self.manifest.rpc_url(0))

    def stop(self) -> None:
        api.stop_network(self.net)
        if self.keycloak is not None:
            self.keycloak.stop()


def _run_gateway(settings: GatewaySettings, port: int) -> None:
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")


def serve(settings: GatewaySettings) -> tuple[Any, str]:
    """The gateway in its own process; returns the process and its URL once healthy."""
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(
        target=_run_gateway,
        args=(settings, port),  # not a daemon: it starts its worker
    )
    proc.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if not proc.is_alive():
            break
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the gateway did not start")


class TransactionStates:
    """Reads the gateway's transaction states from its database, read-only."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def count(self, ids: list[str], states: tuple[str, ...]) -> int:
        marks, state_marks = ",".join("?" * len(ids)), ",".join("?" * len(states))
        (n,) = self.db.execute(
            f"SELECT count(*) FROM transactions WHERE id IN ({marks}) AND state IN ({state_marks})",
            [*ids, *states],
        ).fetchone()
        return int(n)

    def timeline(self, ids: list[str], since: float) -> dict[str, Any]:
        """When the last of `ids` was signed and sent (seconds after `since`, wall clock),
        and how many were mined in each block."""
        marks = ",".join("?" * len(ids))
        (last_sent,) = self.db.execute(
            f"SELECT max(sent_at) FROM transactions WHERE id IN ({marks})", ids
        ).fetchone()
        blocks = self.db.execute(
            f"SELECT block_number, count(*) FROM transactions WHERE id IN ({marks}) "
            "GROUP BY block_number ORDER BY block_number",
            ids,
        ).fetchall()
        return {
            "last_sent_s": round(last_sent - since, 3) if last_sent else None,
            "per_block": [n for _block, n in blocks],
        }


def next_block(w3: Any, offset: float) -> float:
    """Wait for a new block, then `offset` seconds more, and return that time. A round's
    two phases start at the same point of the block period (a paired comparison); the
    rounds spread that point evenly over the period, as real requests would fall."""
    seen = w3.eth.block_number
    while w3.eth.block_number == seen:
        time.sleep(0.005)
    time.sleep(offset)
    return time.monotonic()


async def post_transfers(
    url: str,
    auth: dict[str, str],
    me: dict[str, Any],
    names: list[str],
    indices: range,
    latencies: list[float],
    rate: float | None,
) -> list[str]:
    """Transfers through the gateway: 16 at a time (a burst), or one every 1/rate seconds."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(16 if rate is None else len(indices) or 1)
    start = loop.time()
    async with aiohttp.ClientSession(
        base_url=url, connector=aiohttp.TCPConnector(limit=128)
    ) as session:

        async def one(i: int) -> str:
            if rate is not None:
                await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            n, to = names[i % len(names)], me[names[(i + 1) % len(names)]]["address"]
            headers = {"Authorization": auth[n], "Idempotency-Key": str(uuid.uuid4())}
            async with gate:
                started = time.perf_counter()
                async with session.post(
                    "/api/v1/transfers", json={"to": to, "amount": 1}, headers=headers
                ) as reply:
                    body = await reply.json()
                latencies.append(time.perf_counter() - started)
            assert reply.status == 202, body
            return str(body["transaction"]["id"])

        return list(await asyncio.gather(*(one(i) for i in indices)))


def wait_settled(states: TransactionStates, timeout: float = 120) -> None:
    """Until nothing the gateway queued is still on its way (so rounds do not overlap)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (n,) = states.db.execute(
            "SELECT count(*) FROM transactions WHERE state IN ('queued','signed','sent','mined')"
        ).fetchone()
        if n == 0:
            return
        time.sleep(0.2)


def wait_confirmed_direct(w3: Any, hashes: list[str], timeout: float = 600) -> float:
    pending = set(hashes)
    last_block = 0
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for h in list(pending)[:200]:
            try:
                receipt = w3.eth.get_transaction_receipt(h)
            except Exception:
                continue
            last_block = max(last_block, receipt["blockNumber"])
            pending.discard(h)
        time.sleep(0.05)
    if pending:
        raise RuntimeError(f"{len(pending)} direct transfers not mined")
    while w3.eth.block_number - last_block + 1 < CONFIRMATIONS:
        time.sleep(0.05)
    return time.monotonic()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=400)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--placement", choices=("shared", "split", "both"), default="both")
    parser.add_argument("--keycloak-url")
    parser.add_argument("--admin-password-file")
    parser.add_argument(
        "--report-only", action="store_true", help="rewrite gateway.md from the last gateway.json"
    )
    args = parser.parse_args()
    if args.report_only:
        write_report(json.loads((OUT_DIR / "gateway.json").read_text()))
        return
    direct = [Account.create() for _ in range(args.members)]
    root = Path(tempfile.mkdtemp(prefix="eccoo-gw-bench-"))
    stack = Stack(root, args.keycloak_url, args.admin_password_file, direct)
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "transfers": args.transfers,
        "members": args.members,
        "confirmations": CONFIRMATIONS,
        "rounds": args.rounds,
    }
    proc: Any = None
    try:
        settings = GatewaySettings(
            issuer=stack.realm.issuer,
            audience=stack.realm.audience,
            data_dir=root / "gateway",
            network_dir=stack.net,
            confirmations=CONFIRMATIONS,
            tx_poll_seconds=0.1,
            submissions_per_minute=100_000,
        )
        proc, url = serve(settings)
        states = TransactionStates(settings.database_file)
        # --- cast: a coordinator+treasurer and N members, registered through the API ---------
        people = {}
        with KeycloakAdmin(stack.kc_endpoint, "eccoo") as admin:
            for name in ["boss"] + [f"m{i}" for i in range(args.members)]:
                password = secrets.token_urlsafe(16)
                hats = ["coordinator", "treasurer"] if name == "boss" else []
                username = f"bench-{name}-{secrets.token_hex(3)}"
                admin.ensure_user(username, password, hats=hats)
                people[name] = (username, password)

        def sign_in() -> None:
            """Fresh access tokens (they live minutes; a run of several rounds lives longer)."""
            for n, (username, password) in people.items():
                token = token_for(stack.realm, username, password)
                clients[n].headers["Authorization"] = f"Bearer {token}"

        clients = {n: httpx.Client(base_url=url, timeout=60) for n in people}
        sign_in()
        me = {n: c.get("/api/v1/me").json() for n, c in clients.items()}
        for n in me:
            if n != "boss":
                clients["boss"].post(f"/api/v1/members/{me[n]['subject']}/approve")
        while any(
            c.get("/api/v1/me").json()["membership"] != "registered" for c in clients.values()
        ):
            time.sleep(0.5)
        boss = clients["boss"]
        mints = [
            boss.post(
                "/api/v1/treasury/mint",
                headers={"Idempotency-Key": str(uuid.uuid4())},
                json={"to": me[n]["address"], "amount": 10**9, "bank_ref": f"B-{n}"},
            ).json()["transaction"]["id"]
            for n in me
            if n != "boss"
        ]
        # Direct senders: registered and funded by the operator (admin, treasurer) directly.
        operator = load_account(stack.manifest.deployer)
        deployment = load_deployment(stack.net)
        membership = deployment.contract(stack.w3, "Membership")
        coin = deployment.contract(stack.w3, "CareCoin")
        nonce = stack.w3.eth.get_transaction_count(operator.address)
        setup = []
        for acct in direct:
            for call in (
                membership.functions.registerMember(acct.address, keccak(text=acct.address)),
                coin.functions.mint(acct.address, 10**9, keccak(text="bench")),
            ):
                tx = call.build_transaction(
                    {
                        "from": operator.address,
                        "nonce": nonce,
                        "gas": 300_000,
                        "gasPrice": GAS_PRICE,
                        "chainId": stack.manifest.chain_id,
                    }
                )
                setup.append(
                    stack.w3.eth.send_raw_transaction(
                        operator.sign_transaction(tx).raw_transaction
                    ).hex()
                )
                nonce += 1
        wait_confirmed_direct(stack.w3, ["0x" + h.removeprefix("0x") for h in setup])
        while states.count(mints, ("confirmed",)) < len(mints):
            time.sleep(0.2)

        names = [n for n in me if n != "boss"]
        per = args.transfers // args.members

        def submit(indices: range, latencies: list[float], rate: float | None = None) -> list[str]:
            """POST one transfer per index from one event loop (a light load generator)."""
            auth = {n: str(clients[n].headers["Authorization"]) for n in names}
            return asyncio.run(post_transfers(url, auth, me, names, indices, latencies, rate))

        placements = ["shared", "split"] if args.placement == "both" else [args.placement]
        result["placements"] = {}
        for placement in placements:
            if placement == "split":
                result["cpus"] = place(proc.pid)
            rounds = []
            for number in range(args.rounds):
                sign_in()
                offset = BLOCK_SECONDS * (number + 0.5) / args.rounds
                # --- 1a. direct: pre-signed CareCoin transfers straight to the node ---
                raws, hashes = [], []
                for i, acct in enumerate(direct):
                    to = direct[(i + 1) % len(direct)].address
                    base = stack.w3.eth.get_transaction_count(acct.address)
                    for k in range(per):
                        tx = coin.functions.transfer(to, 1).build_transaction(
                            {
                                "from": acct.address,
                                "nonce": base + k,
                                "gas": 80_000,
                                "gasPrice": GAS_PRICE,
                                "chainId": stack.manifest.chain_id,
                            }
                        )
                        signed = acct.sign_transaction(tx)
                        raws.append(signed.raw_transaction)
                        hashes.append("0x" + bytes(signed.hash).hex())
                cpu0 = cpu_seconds(proc.pid)
                t0 = next_block(stack.w3, offset)
                head = stack.w3.eth.block_number
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(stack.w3.eth.send_raw_transaction, raws))
                direct_sent_s = time.monotonic() - t0
                direct_tps = len(raws) / (wait_confirmed_direct(stack.w3, hashes) - t0)
                direct_blocks = [
                    len(stack.w3.eth.get_block(n)["transactions"])
                    for n in range(head + 1, head + 4)
                ]
                cpu_direct = cpu_delta(cpu0, cpu_seconds(proc.pid))

                # --- 1b. through the gateway ---
                burst: list[float] = []
                total = per * len(names)
                cpu0 = cpu_seconds(proc.pid)
                t0 = next_block(stack.w3, offset)
                wall0 = time.time()
                ids = submit(range(total), burst)
                last_ack_s = time.monotonic() - t0
                while True:
                    done = states.count(ids, ("confirmed",))
                    bad = states.count(ids, ("failed", "reverted"))
                    if done + bad >= total:
                        break
                    time.sleep(0.1)
                gateway_tps = total / (time.monotonic() - t0)
                timeline = {
                    "direct_all_sent_s": round(direct_sent_s, 3),
                    "direct_per_block": [n for n in direct_blocks if n],
                    "gateway_last_ack_s": round(last_ack_s, 3),
                    **{f"gateway_{k}": v for k, v in states.timeline(ids, wall0).items()},
                }
                cpu_gateway = cpu_delta(cpu0, cpu_seconds(proc.pid))

                # --- 2. ack latency at an offered load equal to the chain's throughput ---
                rate = max(1.0, direct_tps)
                count = min(int(rate * 10), 2000)
                acks: list[float] = []
                submit(range(count), acks, rate)
                rounds.append(
                    {
                        "start_offset_s": round(offset, 3),
                        "direct_confirmed_tps": round(direct_tps, 1),
                        "gateway_confirmed_tps": round(gateway_tps, 1),
                        "ratio": round(gateway_tps / direct_tps, 3),
                        "gateway_failed_or_reverted": bad,
                        "ack_under_burst_p95_ms": round(percentile(burst, 0.95) * 1000, 1),
                        "offered_rate_per_s": round(rate, 1),
                        "ack_requests": count,
                        "ack_p50_ms": round(percentile(acks, 0.5) * 1000, 1),
                        "ack_p95_ms": round(percentile(acks, 0.95) * 1000, 1),
                        "timeline": timeline,
                        "cpu_seconds_direct": cpu_direct,
                        "cpu_seconds_gateway": cpu_gateway,
                    }
                )
                wait_settled(states)
            measured: dict[str, Any] = {"rounds_detail": rounds}
            measured["throughput"] = {
                "direct_confirmed_tps": mid(r["direct_confirmed_tps"] for r in rounds),
                "gateway_confirmed_tps": mid(r["gateway_confirmed_tps"] for r in rounds),
                "ratio": mid(r["ratio"] for r in rounds),
                "target_ratio": 0.8,
                "gateway_failed_or_reverted": sum(r["gateway_failed_or_reverted"] for r in rounds),
                "ack_under_burst_p95_ms": mid(r["ack_under_burst_p95_ms"] for r in rounds),
            }
            measured["ack_latency"] = {
                "offered_rate_per_s": mid(r["offered_rate_per_s"] for r in rounds),
                "requests": sum(r["ack_requests"] for r in rounds),
                "p50_ms": mid(r["ack_p50_ms"] for r in rounds),
                "p95_ms": mid(r["ack_p95_ms"] for r in rounds),
                "target_p95_ms": 50,
            }
            result["placements"][placement] = measured
        # The headline is the first placement (the shared machine when both ran).
        result.update(
            {k: result["placements"][placements[0]][k] for k in ("throughput", "ack_latency")}
        )

        # --- 3. signing backends -----------------------------------------------------------------
        key = secrets.token_bytes(32)
        digest = keccak(b"bench")
        signing: dict[str, float] = {}
        backends: list[tuple[str, Any, int]] = [
            ("coincurve", CoinCurveECCBackend(), 3000),
            ("pure_python", NativeECCBackend(), 150),
        ]
        for label, backend, count in backends:
            keys = KeyAPI(backend)
            pk = keys.PrivateKey(key)
            started = time.perf_counter()
            for _ in range(count):
                keys.ecdsa_sign(digest, pk)
            signing[label] = round(count / (time.perf_counter() - started), 1)
        signing["speedup"] = round(signing["coincurve"] / signing["pure_python"], 1)
        signing["target_speedup"] = 10
        result["signing_per_s"] = signing

        # --- 4. JWT verifications per second with cached keys -----------------------------------
        # Every call verified (the gateway also remembers validated tokens for a few seconds).
        validator = TokenValidator(settings.model_copy(update={"token_cache_seconds": 0}))
        sign_in()
        token = str(clients["boss"].headers["Authorization"]).removeprefix("Bearer ")
        validator.validate(token)
        verified, started = 0, time.perf_counter()
        while time.perf_counter() - started < 3:
            validator.validate(token)
            verified += 1
        result["jwt_verifications_per_s"] = round(verified / (time.perf_counter() - started), 1)
        write_report(result)
        print(json.dumps(result, indent=2))
    finally:
        if proc is not None:
            proc.terminate()  # uvicorn shuts down: the worker stops, the store closes
            proc.join(30)
            if proc.is_alive():
                proc.kill()
        stack.stop()


# The analysis of the committed figures (rewrite it with --report-only after a new run).
READING_TEXT = """\
Runs differ on this 2-CPU machine, and both gateway figures sit close to their targets when
the validators share the gateway's CPUs: the multi-round runs since the worker moved to its
own process gave shared-machine medians of ratio 0.75-0.97 (nearly all at or above 0.8) and
ack p95 of 39-74 ms (about half at or under 50 ms). With the validators on a CPU of their
own the ack p95 stays under ~15 ms.

Why the ratio jumps: 400 transfers are a burst the chain takes in one or two 1 s blocks.
Direct, all 400 are at the node 0.3-0.6 s after the start; through the gateway the last is
acknowledged 0.7-1.0 s after it and signed and sent 0.1-0.3 s later (`timeline` in the
JSON). When a block boundary falls between the two, the gateway's last transfers are
confirmed one block later and the ratio is about 0.75; otherwise about 0.95. The rounds
start at four evenly spread points of the block period, the same point for both phases of
a round, so the medians reflect where real requests would fall. Why the tail: the spikes
come once a second, when four geth validators import a block on the same two CPUs; with
them on their own CPU the p95 falls from ~50 ms to ~10 ms, and p50 is 2-4 ms either way.

What changed since the first committed run (ratio 0.52, p95 156 ms): the transaction
worker runs in its own process at niceness 5, so its signing rounds no longer take the
interpreter lock from requests (with niceness 0 the p95 was ~97 ms); the submission path's
dependencies and handlers are async and its statements are built once and run as Core
(API CPU per transfer ~4.4 -> ~1.3 ms); the worker writes with bulk updates, opens each
member's key once per round, reads receipts only when a block arrives, signs with
libsecp256k1 directly (worker CPU ~2.4 -> ~1.1 ms per transfer) and reports a round's
changes in one message; the store's two processes queue on a lock file, not in SQLite's
busy handler. The load generator is one asyncio loop (aiohttp), not 32 threads. A round's
forward requests for one relayer go out as one `executeBatch` transaction (up to 32, under
the node's fee cap; see docs/gateway.md): geth's CPU per transfer fell from ~3.5 to ~2.5 ms
on the shared machine, and a failing request no longer fails its signer's later ones.

Next, if the margin matters: keep validators off the gateway's CPUs in production, as the
split placement shows for the acknowledgement time; the throughput ratio is bounded by when
the gateway's last transfers land relative to a block boundary (above), not by its CPU."""
READING = READING_TEXT.splitlines()


def _verdict(result: dict[str, Any]) -> str:
    """This run's figures against the targets, in one paragraph (the prose below is fixed)."""
    parts = []
    for name, measured in result["placements"].items():
        t, a = measured["throughput"], measured["ack_latency"]
        ratio = "met" if t["ratio"] >= t["target_ratio"] else "missed"
        p95 = "met" if a["p95_ms"] <= a["target_p95_ms"] else "missed"
        parts.append(
            f"{name}: ratio {t['ratio']} (target {ratio}), ack p95 {a['p95_ms']} ms (target {p95})"
        )
    s = result["signing_per_s"]
    return (
        "In this run: " + "; ".join(parts) + f"; signing {s['speedup']}x (target "
        f"{'met' if s['speedup'] >= s['target_speedup'] else 'missed'}); "
        f"{result['jwt_verifications_per_s']} JWT verifications/s."
    )


PLACEMENT_TITLES = {
    "shared": "validators, Keycloak and the gateway share both CPUs",
    "split": "validators and Keycloak on one CPU, the gateway on the other",
}


def _placement_lines(name: str, measured: dict[str, Any], transfers: int) -> list[str]:
    t, a = measured["throughput"], measured["ack_latency"]
    lines = [
        f"### {name}: {PLACEMENT_TITLES[name]}",
        "",
        "Medians over the rounds:",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| direct pre-signed transfers, confirmed/s | {t['direct_confirmed_tps']} | |",
        f"| through the gateway (auth, idempotency, ERC-2771 relay), confirmed/s | "
        f"{t['gateway_confirmed_tps']} | |",
        f"| ratio gateway / direct | {t['ratio']} | ≥ {t['target_ratio']} |",
        f"| ack p95 at offered load {a['offered_rate_per_s']}/s ({a['requests']} requests) | "
        f"{a['p95_ms']} ms (p50 {a['p50_ms']} ms) | ≤ {a['target_p95_ms']} ms |",
        f"| ack p95 under the burst of phase 1 | {t['ack_under_burst_p95_ms']} ms | |",
        f"| transfers failed or reverted | {t['gateway_failed_or_reverted']} | 0 |",
        "",
        "Each round (CPU = milliseconds of CPU per transfer in phase 1b, from /proc):",
        "",
        "| round | direct/s | gateway/s | ratio | ack p50 | ack p95 | CPU API | CPU worker "
        "| CPU geth (all 4) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(measured["rounds_detail"], 1):
        cpu = r["cpu_seconds_gateway"]
        per = {k: round(v * 1000 / transfers, 2) for k, v in cpu.items()}
        lines.append(
            f"| {i} | {r['direct_confirmed_tps']} | {r['gateway_confirmed_tps']} | {r['ratio']} "
            f"| {r['ack_p50_ms']} ms | {r['ack_p95_ms']} ms | {per['gateway']} | "
            f"{per['worker']} | {per['geth']} |"
        )
    return [*lines, ""]


def write_report(result: dict[str, Any]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "gateway.json").write_text(json.dumps(result, indent=2) + "\n")
    s = result["signing_per_s"]
    lines = [
        "# Gateway benchmark",
        "",
        f"One run of `bench/gateway_bench.py` on {result['machine']['cpus']} CPUs, "
        f"4-validator Clique (1 s blocks), {result['transfers']} CareCoin transfers per phase, "
        f"{result['members']} senders, confirmed = {result['confirmations']} blocks, "
        f"{result['rounds']} rounds per placement. Phase 1: the same burst of transfers "
        "pre-signed straight to a node, then through the gateway; phase 2: requests offered "
        "at the rate the chain confirmed in phase 1, acknowledgement time measured.",
        "",
    ]
    for name, measured in result["placements"].items():
        lines += _placement_lines(name, measured, result["transfers"])
    lines += [
        "### Signing and tokens",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| secp256k1 signatures/s, coincurve vs pure Python | {s['coincurve']} vs "
        f"{s['pure_python']} ({s['speedup']}x) | ≥ {s['target_speedup']}x |",
        f"| JWT verifications/s (cached JWKS) | {result['jwt_verifications_per_s']} | |",
        "",
        "## Reading",
        "",
        _verdict(result),
        "",
        *READING,
        "",
    ]
    (OUT_DIR / "gateway.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
