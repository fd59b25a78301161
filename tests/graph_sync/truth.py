"""Ground truth: compare the mirror with the chain itself (eth_getLogs and view calls).

Used by the ground-truth, crash, fault and CLI tests so they all check the same things.
"""

from __future__ import annotations

import sys
from typing import Any

from eccoo.graph_sync.queries import GraphQueries
from web3 import Web3

from .workload import FUNDERS, Ledger


def index_command(command: str, settings: Any) -> list[str]:
    """`eccoo index COMMAND` for the graph and network of `settings`, as a subprocess argv."""
    return [
        sys.executable,
        "-m",
        "eccoo.cli",
        "index",
        command,
        "--network-dir",
        str(settings.network_dir),
        "--data-dir",
        str(settings.data_dir),
        "--bolt-url",
        settings.bolt_url,
        "--neo4j-password-file",
        str(settings.neo4j_password_file),
    ]


def chain_events(ledger: Ledger, to_block: int) -> list[tuple[str, int]]:
    addresses = [c.address for c in ledger.c.values()]
    start = min(c.block for c in ledger.deployment.contracts.values())
    logs = ledger.w3.eth.get_logs({"address": addresses, "fromBlock": start, "toBlock": to_block})
    return [("0x" + bytes(log["blockHash"]).hex(), log["logIndex"]) for log in logs]


def graph_events(driver: Any) -> list[tuple[str, int]]:
    records, _, _ = driver.execute_query(
        "MATCH (e:Event) RETURN e.block_hash AS h, e.log_index AS i"
    )
    return [(r["h"], r["i"]) for r in records]


def assert_mirror_exact(ledger: Ledger, driver: Any) -> dict[str, int]:
    """Every event exactly once and entity state equal to the view functions, as of the
    indexer's cursor (the chain is read at that same block)."""
    queries = GraphQueries(driver)
    cursor = queries.cursor()
    assert cursor is not None
    block = cursor["block"]
    expected = chain_events(ledger, block)
    found = graph_events(driver)
    assert len(found) == len(set(found)), "duplicate events in the graph"
    missing = set(expected) - set(found)
    extra = set(found) - set(expected)
    assert not missing and not extra, f"{len(missing)} missing, {len(extra)} not on chain"

    coin, pots, care = ledger.c["CareCoin"], ledger.c["FundingPots"], ledger.c["CareLedger"]
    balances = queries.balances()
    for address, balance in balances.items():
        assert (
            coin.functions.balanceOf(Web3.to_checksum_address(address)).call(block_identifier=block)
            == balance
        ), address
    count = care.functions.appointmentCount().call(block_identifier=block)
    appointments = {a["id"]: a for a in queries.appointments()}
    assert len(appointments) == count
    for appointment_id in range(1, count + 1):
        on_chain = care.functions.appointmentOf(appointment_id).call(block_identifier=block)
        assert appointments[appointment_id]["status"] == on_chain[5], appointment_id
    records, _, _ = driver.execute_query(
        "MATCH (pay:Payment) RETURN pay.appointment_id AS id, pay.amount AS amount, "
        "pay.giver_share AS share, pay.payer_contribution AS payer, "
        "pay.giver_contribution AS giver, pay.contribution AS contribution"
    )
    for pay in records:
        a = care.functions.appointmentOf(pay["id"]).call(block_identifier=block)
        paid, payer, giver = a[12], a[13], a[14]  # paidAmount, both contributions
        assert (pay["payer"], pay["giver"]) == (payer, giver), pay["id"]
        assert (pay["amount"], pay["share"]) == (paid + payer, paid - giver), pay["id"]
        assert pay["contribution"] == payer + giver, pay["id"]
    pot_balances = queries.pot_balances()
    pot_count = pots.functions.potCount().call(block_identifier=block)
    for pot in range(1, pot_count + 1):
        for funder in FUNDERS:
            on_chain = pots.functions.balanceOf(pot, funder).call(block_identifier=block)
            assert pot_balances.get((pot, "0x" + funder.hex()), 0) == on_chain, (pot, funder)
    records, _, _ = driver.execute_query(
        "MATCH (e:Event) RETURN e.contract + '.' + e.name AS kind, count(*) AS n"
    )
    kinds = {r["kind"]: r["n"] for r in records}
    return {
        "events": len(found),
        "accounts": len(balances),
        "appointments": count,
        "block": block,
        "kinds": kinds,
    }
