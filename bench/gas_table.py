"""Measures gas per ledger function on a real Clique network and writes docs/gas.md.

Usage: .venv/bin/python bench/gas_table.py [--network-dir DIR] [--out docs/gas.md]
Without --network-dir it starts a private 4-validator network in a temp folder and stops it
at the end. Member actions go through the forwarder (the relayer's gas is what is shown);
operator actions are direct. It never prints keys and leaves no process running.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from eccoo.client import forwarder as fwd
from eccoo.client.deploy import deploy, poa_web3
from eccoo.client.revert import error_table
from eccoo.client.transact import Sender
from eccoo.node import api
from eccoo.node.keys import load_account
from eth_account import Account
from eth_utils import keccak
from web3.logs import DISCARD

from eccoo.engines import GETH_VERSION, SOLC_VERSION
from eccoo.services.process import port_is_free
from eccoo.settings import REPO_ROOT

RECEIVER, GIVER, ARRANGER, SUPPORTER, COORDINATOR = 0, 1, 2, 3, 4
LA, NHS = keccak(text="funder:local-authority"), keccak(text="funder:nhs")


def _free_base_port(nodes: int = 8) -> int:
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(20_000, 59_000, 10)
        if all(port_is_free(p) for p in range(base, base + 10 * nodes)):
            return base
    raise RuntimeError("no free block of ports")


def measure(network_dir: Path) -> tuple[list[tuple[str, str, int]], dict[str, object]]:
    """Runs every function once (or more) and returns (function, path, gasUsed) rows."""
    manifest = api.load_manifest(network_dir)
    deployment = deploy(network_dir)
    w3 = poa_web3(manifest.rpc_url(manifest.nodes[0].index))
    table = error_table(c.abi for c in deployment.contracts.values())
    operator = Sender(w3, load_account(manifest.deployer), error_table=table)
    relayer = Sender(w3, load_account(manifest.relayers[0]), error_table=table)
    m, coin, pots, care, forwarder = (deployment.contract(w3, k) for k in (
        "Membership", "CareCoin", "FundingPots", "CareLedger", "Forwarder"))  # fmt: skip
    rows: list[tuple[str, str, int]] = []

    for key, entry in deployment.contracts.items():
        receipt = w3.eth.get_transaction_receipt(entry.tx)
        rows.append((f"deploy {key}", "direct", receipt["gasUsed"]))

    def direct(label: str, call) -> None:
        rows.append((label, "direct (operator)", operator.transact(call)["gasUsed"]))

    def member(label: str, who, target, fn_name: str, *args) -> dict:
        request = fwd.signed_call(forwarder, who, target, fn_name, *args)
        receipt = fwd.relay(forwarder, request, relayer)
        rows.append((label, "forwarded (relayer pays)", receipt["gasUsed"]))
        return receipt

    receiver, giver, arranger, funder, coordinator = (Account.create() for _ in range(5))
    cast = ((receiver, RECEIVER), (giver, GIVER), (arranger, ARRANGER), (funder, SUPPORTER),
            (coordinator, COORDINATOR))  # fmt: skip
    for i, (who, hat) in enumerate(cast):
        call = m.functions.registerMember(who.address, keccak(text=f"gas:{who.address}"))
        if i == 0:
            direct("Membership.registerMember", call)
            direct("Membership.grantHat", m.functions.grantHat(who.address, hat))
        else:
            operator.transact(call)
            operator.transact(m.functions.grantHat(who.address, hat))
    circle = keccak(text="circle:gas")
    member("Membership.createCircle", coordinator, m, "createCircle", circle, b"\0" * 32,
           keccak(text="aim"), keccak(text="domain"))  # fmt: skip
    member("Membership.setCircleRole", coordinator, m, "setCircleRole", circle, giver.address, 1)
    member("Membership.requestHat", giver, m, "requestHat", SUPPORTER)
    member("Membership.approveHatRequest", coordinator, m, "approveHatRequest", giver.address,
           SUPPORTER)  # fmt: skip
    member("Membership.setArranger", receiver, m, "setArranger", receiver.address,
           arranger.address)  # fmt: skip
    direct(
        "FundingPots.createPot (2 funders)",
        pots.functions.createPot(receiver.address, [LA, NHS], [6_000, 4_000]),
    )
    pot = pots.functions.potCount().call()
    direct("CareCoin.mint", coin.functions.mint(funder.address, 1_000_000, keccak(text="bank")))
    member("CareCoin.approve", funder, coin, "approve", pots.address, 2**256 - 1)
    member("FundingPots.deposit", funder, pots, "deposit", pot, LA, 300_000)
    member("FundingPots.deposit", funder, pots, "deposit", pot, NHS, 200_000)
    member("CareCoin.transfer", funder, coin, "transfer", giver.address, 100)
    # The same calls made directly, by a member given a little ether, show the forwarder's cost.
    relayer.wait(relayer.send_tx({"to": funder.address, "value": 10**16, "gas": 21_000,
                                  "gasPrice": w3.eth.gas_price, "nonce": relayer.next_nonce(),
                                  "chainId": manifest.chain_id}))  # fmt: skip
    as_funder = Sender(w3, funder, error_table=table)
    for _ in range(2):
        receipt = as_funder.transact(coin.functions.transfer(giver.address, 100))
        rows.append(("CareCoin.transfer", "direct (member)", receipt["gasUsed"]))
    receipt = as_funder.transact(pots.functions.deposit(pot, NHS, 1_000))
    rows.append(("FundingPots.deposit", "direct (member)", receipt["gasUsed"]))

    member("CareLedger.setHourlyRate", giver, care, "setHourlyRate", 2_000)
    member("CareLedger.setHourlyRate", giver, care, "setHourlyRate", 1_900)  # changing it
    direct("FundingPots.setHourlyCap", pots.functions.setHourlyCap(pot, LA, 3_000))

    def book() -> int:
        start = w3.eth.get_block("latest")["timestamp"] - 60
        receipt = member("CareLedger.book (one funder capped)", arranger, care, "book",
                         receiver.address, giver.address, start, 60, pot)  # fmt: skip
        [event] = care.events.AppointmentBooked().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["appointmentId"])

    paid = book()
    member("CareLedger.markDelivered", giver, care, "markDelivered", paid)
    member("CareLedger.anchorCareNote", giver, care, "anchorCareNote", paid, keccak(text="n1"))
    member("CareLedger.confirm", receiver, care, "confirm", paid)
    member("CareLedger.releasePayment (2 funders)", giver, care, "releasePayment", paid)
    disputed = book()
    member("CareLedger.markDelivered", giver, care, "markDelivered", disputed)
    member("CareLedger.dispute", receiver, care, "dispute", disputed, keccak(text="why"))
    member("CareLedger.resolveDispute (partial pay)", coordinator, care, "resolveDispute",
           disputed, 1_000)  # fmt: skip
    start = w3.eth.get_block("latest")["timestamp"] + 3_600
    receipt = member("CareLedger.book (one funder capped)", arranger, care, "book",
                     receiver.address, giver.address, start, 60, pot)  # fmt: skip
    [event] = care.events.AppointmentBooked().process_receipt(receipt, errors=DISCARD)
    later = event["args"]["appointmentId"]
    member("CareLedger.cancel", receiver, care, "cancel", later)
    direct("FundingPots.refund", pots.functions.refund(pot, LA, 1_000, funder.address))
    direct("CareCoin.burn (own balance)", coin.functions.burn(operator.address, 1,
                                                             keccak(text="payout")))  # fmt: skip
    direct("CareLedger.setContributionRates", care.functions.setContributionRates(1_800, 800))
    direct("CareCoin.pause", coin.functions.pause())
    direct("CareCoin.unpause", coin.functions.unpause())
    info = {"chain_id": manifest.chain_id, "validators": len(manifest.validators),
            "period": manifest.period, "gas_limit": manifest.gas_limit,
            "block": w3.eth.block_number}  # fmt: skip
    return rows, info


def render(rows: list[tuple[str, str, int]], info: dict[str, object]) -> str:
    seen: dict[tuple[str, str], list[int]] = {}
    for label, path, gas in rows:
        seen.setdefault((label, path), []).append(gas)
    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    lines = [
        "# Gas per function",
        "",
        f"Measured by `bench/gas_table.py` on a real Clique network (geth {GETH_VERSION}, "
        f"{info['validators']} validators, {info['period']} s blocks, gas limit "
        f"{info['gas_limit']:,}); contracts compiled with solc {SOLC_VERSION}, paris, "
        f"optimizer 200 runs; commit `{commit}`; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "*Forwarded* rows are the whole `CareForwarder.execute` transaction the relayer pays "
        "for (signature check, nonce, the call itself); compare the *direct (member)* rows of "
        "the same function for the forwarder's overhead. Where a function ran more than once "
        "all values are listed (first-time storage writes cost more). Gas does not depend on "
        "the amounts (pennies).",
        "",
        "| Function | Path | Gas used |",
        "|---|---|---:|",
    ]
    for (label, path), values in seen.items():
        lines.append(f"| {label} | {path} | {' / '.join(f'{v:,}' for v in values)} |")
    lines += ["", "Regenerate: `.venv/bin/python bench/gas_table.py` (starts and stops its own "
              "network, about two minutes)."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network-dir", type=Path)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "gas.md")
    args = parser.parse_args()
    if args.network_dir:
        rows, info = measure(args.network_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="eccoo-gas-") as tmp:
            network_dir = Path(tmp) / "network"
            api.init_network(network_dir, validators=4, period=1, base_port=_free_base_port())
            try:
                api.start_network(network_dir)
                rows, info = measure(network_dir)
            finally:
                api.stop_network(network_dir)
    args.out.write_text(render(rows, info))
    print(f"wrote {args.out} ({len(rows)} measurements)")


if __name__ == "__main__":
    main()
