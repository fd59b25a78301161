"""Member pages against their JSON API calls, in one run on one fresh stack (Keycloak,
4-validator Clique, contracts, the gateway as `eccoo gateway run` starts it).

N members sign in on the web through Keycloak's own login form (a real session each) and
also hold an access token for the API. Each then books one appointment, so the list and
the detail have something to show. For home, the appointment list and an appointment's
detail, `--requests` requests per page are sent from N concurrent members, then the same
number of the JSON calls that page makes (home: /me, /me/balance, /appointments; list:
/appointments; detail: /appointments/{id}). Reports pages per second, server time p50/p95
(time to the whole answer on loopback), the page/API ratio, and each page's weight (HTML
plus the CSS and JavaScript it loads). Writes docs/bench/web.{json,md}. Not a test.

    .venv/bin/python bench/web_pages_bench.py [--members 50] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import multiprocessing
import os
import platform
import re
import secrets
import sys
import tempfile
import time
import uuid
from pathlib import Path
from statistics import median
from typing import Any

import aiohttp
import httpx
from eccoo.client.deployment import load_deployment
from eccoo.gateway.identity.realm import KeycloakAdmin
from eccoo.gateway.settings import GatewaySettings
from eth_utils import keccak

from eccoo.services.process import free_port
from eccoo.settings import REPO_ROOT

sys.path.insert(0, str(Path(__file__).parent))
from gateway_bench import Stack, _run_gateway, percentile, token_for

OUT_DIR = REPO_ROOT / "docs" / "bench"
WEIGHT_LIMIT = 150_000
RATIO_LIMIT = 1.5


def web_sign_in(url: str, username: str, password: str) -> httpx.Client:
    """A browser's sign-in: /web/login, Keycloak's form, the callback; the session cookie."""
    browser = httpx.Client(base_url=url, timeout=60)
    to_provider = browser.get("/web/login")
    provider = httpx.Client(follow_redirects=True, timeout=60)
    form = provider.get(to_provider.headers["location"])
    action = re.search(r'<form[^>]*action="([^"]+)"', form.text)
    assert action is not None, form.text[:300]
    # Keycloak marks its cookies Secure; httpx keeps them off http://, a browser would not.
    jar = "; ".join(f"{c.name}={c.value}" for c in provider.cookies.jar)
    back = provider.post(
        html.unescape(action.group(1)),
        data={"username": username, "password": password},
        headers={"Cookie": jar},
        follow_redirects=False,
    )
    assert browser.get(back.headers["location"].removeprefix(url)).status_code == 303
    return browser


async def measure(
    url: str, calls: list[tuple[dict[str, str], list[str]]], requests: int
) -> dict[str, float]:
    """`requests` rounds spread over the members (each member: its headers and the paths
    one round fetches in order), all members at once; seconds per round and rounds/s."""
    per_member = max(1, requests // len(calls))
    times: list[float] = []

    async def member(
        session: aiohttp.ClientSession, headers: dict[str, str], paths: list[str]
    ) -> None:
        for _ in range(per_member):
            t0 = time.perf_counter()
            for path in paths:
                async with session.get(url + path, headers=headers, allow_redirects=False) as r:
                    await r.read()
                    assert r.status == 200, (path, r.status)
            times.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=len(calls))
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(member(session, h, p) for h, p in calls))
        elapsed = time.perf_counter() - started
    return {
        "per_second": len(times) / elapsed,
        "p50_ms": median(times) * 1000,
        "p95_ms": percentile(times, 0.95) * 1000,
        "rounds": len(times),
    }


def page_weight(client: httpx.Client, path: str) -> int:
    page = client.get(path).content
    assets = re.findall(rb'(?:href=|src=|from )"(/web/static/[^"]+)"', page)
    return len(page) + sum(len(client.get(a.decode()).content) for a in set(assets))


FUNDER = "0x" + keccak(text="funder:local-authority").hex()


def pot_count(stack: Any) -> int:
    return int(
        load_deployment(stack.net).contract(stack.w3, "FundingPots").functions.potCount().call()
    )


def submit(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    reply = client.post(path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert reply.status_code == 202, reply.text
    return str(reply.json()["transaction"]["id"])


def wait_confirmed(client: httpx.Client, tx_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (state := client.get(f"/api/v1/transactions/{tx_id}").json()["state"]) != "confirmed":
        assert state not in ("failed", "reverted") and time.monotonic() < deadline, state
        time.sleep(0.3)


def serve(settings: GatewaySettings) -> tuple[Any, str]:
    """The gateway in its own process at a free port that it also knows as its public
    address (the web client's redirect URI names it); the process and its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = settings.model_copy(update={"public_url": url, "port": port})
    proc = multiprocessing.get_context("spawn").Process(target=_run_gateway, args=(settings, port))
    proc.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.is_alive():
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the gateway did not start")


def write_report(result: dict[str, Any]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "web.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# Member pages against their API calls",
        "",
        f"`bench/web_pages_bench.py`: {result['members']} signed-in members at once, "
        f"{result['requests']} rounds per row, one fresh stack on "
        f"{result['machine']['cpus']} CPUs (Python {result['machine']['python']}). A page round "
        "is one page; an API round is the JSON calls that page makes. Server time is the "
        "time to the whole answer on loopback.",
        "",
        "| page | pages/s | p50 ms | p95 ms | its API calls/s | p50 ms | p95 ms | page/API p50 "
        "| weight KB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, row in result["pages"].items():
        page, api = row["page"], row["api"]
        lines.append(
            f"| {name} | {page['per_second']:.1f} | {page['p50_ms']:.0f} | {page['p95_ms']:.0f} "
            f"| {api['per_second']:.1f} | {api['p50_ms']:.0f} | {api['p95_ms']:.0f} "
            f"| {row['ratio_p50']:.2f} (target {RATIO_LIMIT}) "
            f"| {row['weight_bytes'] / 1000:.0f} (target {WEIGHT_LIMIT // 1000}) |"
        )
    (OUT_DIR / "web.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="eccoo-web-bench-"))
    stack = Stack(root, None, None, [])
    proc: Any = None
    try:
        settings = GatewaySettings(
            issuer=stack.realm.issuer,
            audience=stack.realm.audience,
            data_dir=root / "gateway",
            network_dir=stack.net,
            confirmations=1,
            tx_poll_seconds=0.1,
            submissions_per_minute=100_000,
            listings_per_minute=1_000_000,
            web_client_secret_file=stack.realm.clients["eccoo-web"],
        )
        proc, url = serve(settings)
        people: dict[str, tuple[str, str]] = {}
        with KeycloakAdmin(stack.kc_endpoint, "eccoo") as admin:
            client_id = admin.client_uuid("eccoo-web")
            rep = admin.call("GET", f"/clients/{client_id}").json()
            rep["redirectUris"] = [f"{url}/auth/callback"]
            admin.call("PUT", f"/clients/{client_id}", json=rep)
            for name in ["boss"] + [f"m{i}" for i in range(args.members)]:
                password = secrets.token_urlsafe(16)
                hats = ["coordinator", "treasurer"] if name == "boss" else []
                username = f"bench-{name}-{secrets.token_hex(3)}"
                admin.ensure_user(username, password, hats=hats)
                people[name] = (username, password)
        api = {
            n: httpx.Client(
                base_url=url,
                timeout=60,
                headers={"Authorization": f"Bearer {token_for(stack.realm, *people[n])}"},
            )
            for n in people
        }
        me = {n: c.get("/api/v1/me").json() for n, c in api.items()}
        boss = api["boss"]
        members = [n for n in people if n != "boss"]
        for n in members:
            for hat in ("care_receiver", "care_giver"):
                asked = api[n].post("/api/v1/me/hats/requests", json={"hat": hat}).json()
                boss.post(f"/api/v1/hats/requests/{asked['id']}/approve")
            boss.post(f"/api/v1/members/{me[n]['subject']}/approve")
        while any(c.get("/api/v1/me").json()["membership"] != "registered" for c in api.values()):
            time.sleep(0.5)
        # A pot per member (one at a time, so each id is known), then each member books the
        # next one, a day ahead: the list and the detail have an appointment to show.
        pot_of = {}
        for n in members:
            tx = submit(
                boss,
                "/api/v1/pots",
                {
                    "receiver": me[n]["address"],
                    "funders": [{"funder_id": FUNDER, "share_bps": 10_000}],
                },
            )
            wait_confirmed(boss, tx)
            pot_of[n] = pot_count(stack)
        start = int(stack.w3.eth.get_block("latest")["timestamp"]) + 86_400
        booked = []
        for i, n in enumerate(members):
            giver = members[(i + 1) % len(members)]
            body = {
                "receiver": me[n]["address"],
                "giver": me[giver]["address"],
                "start": start,
                "duration_minutes": 60,
                "rate_per_hour": 1000,
                "pot_id": pot_of[n],
            }
            booked.append((n, submit(api[n], "/api/v1/appointments", body)))
        for n, tx in booked:
            wait_confirmed(api[n], tx)
        mine = {n: api[n].get("/api/v1/appointments").json()[0]["id"] for n in members}
        web = {n: web_sign_in(url, *people[n]) for n in members}
        cookie = {
            n: {"Cookie": f"eccoo_session={web[n].cookies['eccoo_session']}"} for n in members
        }

        def bearer() -> dict[str, dict[str, str]]:
            """Fresh API tokens (they live minutes; the web sessions refresh their own)."""
            return {
                n: {"Authorization": f"Bearer {token_for(stack.realm, *people[n])}"}
                for n in members
            }

        pages = {
            "home": (
                lambda n: ["/web"],
                lambda n: ["/api/v1/me", "/api/v1/me/balance", "/api/v1/appointments"],
            ),
            "appointment list": (
                lambda n: ["/web/appointments"],
                lambda n: ["/api/v1/appointments"],
            ),
            "appointment detail": (
                lambda n: [f"/web/appointments/{mine[n]}"],
                lambda n: [f"/api/v1/appointments/{mine[n]}"],
            ),
        }
        result: dict[str, Any] = {
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "members": args.members,
            "requests": args.requests,
            "pages": {},
        }
        for name, (page_paths, api_paths) in pages.items():
            as_page = asyncio.run(
                measure(url, [(cookie[n], page_paths(n)) for n in members], args.requests)
            )
            as_api = asyncio.run(
                measure(
                    url, [(headers, api_paths(n)) for n, headers in bearer().items()], args.requests
                )
            )
            result["pages"][name] = {
                "page": as_page,
                "api": as_api,
                "ratio_p50": as_page["p50_ms"] / as_api["p50_ms"],
                "weight_bytes": page_weight(web[members[0]], page_paths(members[0])[0]),
            }
            print(name, json.dumps(result["pages"][name]))
        write_report(result)
    finally:
        if proc is not None:
            proc.terminate()
            proc.join(timeout=20)
        stack.stop()


if __name__ == "__main__":
    main()
