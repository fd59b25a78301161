"""Gateway benchmark, in one run on one fresh stack (Keycloak, 4-validator Clique, contracts).

1. confirmed CareCoin transfers per second through the gateway (authenticated, one
   Idempotency-Key each, ERC-2771 relayed) against pre-signed CareCoin transfers sent
   straight to the node; 2. p95 time to acknowledge a submission at an offered load equal
   to the direct throughput; 3. secp256k1 signing, coincurve vs the pure-Python backend;
   4. JWT verifications per second with cached keys. Writes docs/bench/gateway.{json,md}.
   The gateway runs in a process of its own (uvicorn, as `eccoo gateway run` does), so the
   load generator does not share its interpreter. Not a test. Throwaway keys and users
   only; every process it starts is stopped.

    .venv/bin/python bench/gateway_bench.py [--transfers 400] [--members 16]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import secrets
import sqlite3
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from eccoo.client.deploy import deploy, poa_web3
from eccoo.client.deployment import load_deployment
from eccoo.gateway.app import create_app
from eccoo.gateway.realm import KeycloakAdmin, ensure_realm
from eccoo.gateway.security import TokenValidator
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
GAS_PRICE = 100 * 10**9


def free_base(nodes: int) -> int:
    for _ in range(200):
        base = random.randrange(20_000, 55_000, PORT_STRIDE)
        if all(port_is_free(p) for p in range(base, base + PORT_STRIDE * (nodes + 2))):
            return base
    raise RuntimeError("no free port block")


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
            period=1,
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
        target=_run_gateway, args=(settings, port), daemon=True
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
                people[name] = token_for(stack.realm, username, password)
        clients = {
            n: httpx.Client(base_url=url, headers={"Authorization": f"Bearer {t}"}, timeout=60)
            for n, t in people.items()
        }
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

        # --- 1a. direct: pre-signed CareCoin transfers straight to the node --------------------
        per = args.transfers // args.members
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
        t0 = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(stack.w3.eth.send_raw_transaction, raws))
        direct_tps = len(raws) / (wait_confirmed_direct(stack.w3, hashes) - t0)

        # --- 1b. through the gateway ------------------------------------------------------------
        names = [n for n in me if n != "boss"]
        latencies: list[float] = []
        lock = threading.Lock()

        def submit(i: int) -> str:
            n = names[i % len(names)]
            to = me[names[(i + 1) % len(names)]]["address"]
            started = time.perf_counter()
            reply = clients[n].post(
                "/api/v1/transfers",
                json={"to": to, "amount": 1},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            with lock:
                latencies.append(time.perf_counter() - started)
            assert reply.status_code == 202, reply.text
            return str(reply.json()["transaction"]["id"])

        total = per * len(names)
        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(submit, range(total)))
        while True:
            done = states.count(ids, ("confirmed",))
            bad = states.count(ids, ("failed", "reverted"))
            if done + bad >= total:
                break
            time.sleep(0.1)
        gateway_tps = total / (time.monotonic() - t0)
        result["throughput"] = {
            "direct_confirmed_tps": round(direct_tps, 1),
            "gateway_confirmed_tps": round(gateway_tps, 1),
            "ratio": round(gateway_tps / direct_tps, 3),
            "target_ratio": 0.8,
            "gateway_failed_or_reverted": bad,
            "ack_under_burst_p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        }

        # --- 2. acknowledgement latency at an offered load equal to the chain's throughput ------
        rate = max(1.0, direct_tps)
        count = min(int(rate * 10), 2000)
        latencies.clear()
        with ThreadPoolExecutor(32) as pool:
            start = time.perf_counter()
            futures = []
            for i in range(count):
                delay = start + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                futures.append(pool.submit(submit, i))
            for f in futures:
                f.result()
        result["ack_latency"] = {
            "offered_rate_per_s": round(rate, 1),
            "requests": count,
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "target_p95_ms": 50,
        }

        # --- 3. signing backends -----------------------------------------------------------------
        key = secrets.token_bytes(32)
        digest = keccak(b"bench")
        signing = {}
        for label, backend, n in (
            ("coincurve", CoinCurveECCBackend(), 3000),
            ("pure_python", NativeECCBackend(), 150),
        ):
            keys = KeyAPI(backend)
            pk = keys.PrivateKey(key)
            started = time.perf_counter()
            for _ in range(n):
                keys.ecdsa_sign(digest, pk)
            signing[label] = round(n / (time.perf_counter() - started), 1)
        signing["speedup"] = round(signing["coincurve"] / signing["pure_python"], 1)
        signing["target_speedup"] = 10
        result["signing_per_s"] = signing

        # --- 4. JWT verifications per second with cached keys -----------------------------------
        validator = TokenValidator(settings)
        token = people["boss"]
        validator.validate(token)
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < 3:
            validator.validate(token)
            n += 1
        result["jwt_verifications_per_s"] = round(n / (time.perf_counter() - started), 1)
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
Signing and JWT targets are met. Both gateway targets are still missed on this shared
2-core machine (four geth validators, Keycloak and the load generator run beside the
gateway), but the distance shrank: 0.28 → 0.52 of direct throughput, and ack p95 at the
chain's throughput 3.2 s → 156 ms (p50 1.8 s → 39 ms), at a higher offered load than
before (direct reached 114/s in this run, 78.6/s in the previous one).

What changed since the previous run: a submission now does auth, validation and ONE
durable commit (idempotency record + answer + queued row) and answers 202; it never
calls the node. Simulation (one JSON-RPC batch of `eth_call`s per worker round, only for
a signer's first request not queued behind one in flight), EIP-712 signing, relayer
signing and broadcasting moved to the worker, which commits a whole round at once and
sends each relayer's transactions as one JSON-RPC batch, relayers in parallel. web3's
`encode_abi` (0.9 ms a call) and `encode_typed_data` were replaced by cached selectors
and a hand-rolled EIP-712 digest (0.01 ms; 0.44 ms with the signature), checked byte for
byte against web3 in the tests. The benchmark now runs the gateway in its own process;
before, its 32 client threads shared the gateway's interpreter (that is also why JWT
verifications/s rose from 4.6k to 18.8k, probably: the earlier figure was taken while
the in-process server and its worker still competed for the GIL).

Where the time goes now (py-spy, wall clock, on a separate profiled run whose figures
are slower and not reported): the request threads spend ~62 % of their time waiting to
enter the store's write lock, and well under 5 % doing their own work inside it; the
worker thread is idle ~37 % of the time and spends ~26 % on EIP-712 signing, ~8 % on
relayer signing, the rest on store reads and receipts. The visible queue is at the one
in-process write lock, held per request for the whole unit (BEGIN IMMEDIATE ... COMMIT)
while 40 request threads and the worker contend for the GIL, so the holder is often
descheduled. A group-commit variant (one writer thread committing the submissions of
many requests together, each answered after its commit) was tried and measured in a
separate run on the same code otherwise: ratio 0.47, ack p95 289 ms (p50 80 ms) at
119/s offered, no better, so it was not kept. That suggests the wait for the lock
mostly measures the process being starved of CPU (load average above 3 on 2 cores
before the benchmark starts), not the lock itself. A run with 8 request threads instead
of anyio's default 40 gave more throughput (0.58x) but slower acknowledgements (p95
405 ms, p50 264 ms at 111/s: requests wait for a thread instead of for the lock), so
that was not kept either. Next steps: run the worker in its own process (it shares
nothing but the database with the request path), or several request processes in
front of one worker (PostgreSQL instead of SQLite); and measure on a machine where the
validators do not share the gateway's two cores."""
READING = READING_TEXT.splitlines()


def write_report(result: dict[str, Any]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "gateway.json").write_text(json.dumps(result, indent=2) + "\n")
    t, a, s = result["throughput"], result["ack_latency"], result["signing_per_s"]
    lines = [
        "# Gateway benchmark",
        "",
        f"One run of `bench/gateway_bench.py` on {result['machine']['cpus']} CPUs (shared), "
        f"4-validator Clique (1 s blocks), {result['transfers']} CareCoin transfers, "
        f"{result['members']} senders, confirmed = {result['confirmations']} blocks.",
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
        f"| secp256k1 signatures/s, coincurve vs pure Python | {s['coincurve']} vs "
        f"{s['pure_python']} ({s['speedup']}x) | ≥ {s['target_speedup']}x |",
        f"| JWT verifications/s (cached JWKS) | {result['jwt_verifications_per_s']} | |",
        "",
        "## Reading",
        "",
        *READING,
        "",
    ]
    (OUT_DIR / "gateway.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
