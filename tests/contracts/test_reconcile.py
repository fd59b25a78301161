"""The treasurer's reconciliation against a real Clique network: bank lines to mints and
burns by hashed reference, funders' remittances to pot deposits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eccoo.client import forwarder as fwd
from eccoo.client.reconcile import (
    chain_movements,
    read_bank_statement,
    read_remittances,
    reconcile,
    reference_hash,
)
from eccoo.client.revert import error_table
from eccoo.client.transact import Sender
from eccoo.node.keys import load_account
from eth_account import Account
from eth_utils import keccak

from eccoo.errors import InvalidInput

pytestmark = pytest.mark.geth

LA = keccak(text="funder:local-authority:reconcile")
ECCOO = str(Path(sys.executable).parent / "eccoo")


@pytest.fixture(scope="module")
def treasury_day(clique_ledger):
    """Mints, a burn and a deposit, as a treasurer's day would have them."""
    network, deployment = clique_ledger
    w3 = network.w3(0)
    table = error_table(c.abi for c in deployment.contracts.values())
    operator = Sender(w3, load_account(network.manifest.deployer), error_table=table)
    relayer = Sender(w3, load_account(network.manifest.relayers[2]), error_table=table)
    m, coin, pots, forwarder = (deployment.contract(w3, k) for k in
                                ("Membership", "CareCoin", "FundingPots", "Forwarder"))  # fmt: skip
    start = w3.eth.block_number + 1
    member = Account.create()
    operator.transact(m.functions.registerMember(member.address, keccak(text=member.address)))
    operator.transact(m.functions.grantHat(member.address, 0))  # care receiver
    operator.transact(coin.functions.mint(member.address, 10_000, reference_hash("BANK-001")))
    operator.transact(coin.functions.mint(member.address, 2_500, reference_hash("BANK-002")))
    request = fwd.signed_call(forwarder, member, coin, "approve", operator.address, 1_000)
    fwd.relay(forwarder, request, relayer)
    operator.transact(coin.functions.burn(member.address, 1_000, reference_hash("PAYOUT-7")))
    operator.transact(pots.functions.createPot(member.address, [LA], [10_000]))
    pot_id = pots.functions.potCount().call()
    operator.transact(coin.functions.mint(operator.address, 3_000, reference_hash("BANK-003")))
    operator.transact(coin.functions.approve(pots.address, 3_000))
    operator.transact(pots.functions.deposit(pot_id, LA, 3_000))
    return network, deployment, start, pot_id


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_every_line_is_matched_mismatched_or_left_over(treasury_day, tmp_path):
    network, deployment, start, pot_id = treasury_day
    bank = read_bank_statement(_write(tmp_path / "bank.csv", (
        "date,reference,amount_pence\n"
        "2026-11-01,BANK-001,10000\n"
        "2026-11-01,BANK-002,2400\n"
        "2026-11-02,BANK-003,3000\n"
        "2026-11-03,PAYOUT-7,-1000\n"
        "2026-11-04,BANK-009,500\n")))  # fmt: skip
    remitted = read_remittances(_write(tmp_path / "remit.csv", (
        f"pot_id,funder_id,amount_pence\n{pot_id},0x{LA.hex()},3000\n")))  # fmt: skip
    result = reconcile(bank, chain_movements(network.w3(1), deployment, start), remitted)

    assert [r["reference"] for r in result.matched] == ["BANK-001", "BANK-003", "PAYOUT-7"]
    assert [(r["reference"], r["bank_amount"], r["chain_amount"])
            for r in result.amount_mismatches] == [("BANK-002", 2400, 2500)]  # fmt: skip
    assert [r["reference"] for r in result.bank_only] == ["BANK-009"]
    assert result.chain_only == []
    assert result.funders == [{"pot": pot_id, "funder": "0x" + LA.hex(), "deposited": 3000,
                               "remitted": 3000, "matches": True}]  # fmt: skip
    assert not result.clean


def test_cli_exit_status_says_whether_it_reconciles(treasury_day, tmp_path):
    network, _, start, _ = treasury_day
    clean = _write(tmp_path / "clean.csv", (
        "date,reference,amount_pence\n2026-11-01,BANK-001,10000\n2026-11-01,BANK-002,2500\n"
        "2026-11-02,BANK-003,3000\n2026-11-03,PAYOUT-7,-1000\n"))  # fmt: skip
    argv = [ECCOO, "treasury", "reconcile", "--network-dir", str(network.dir),
            "--from-block", str(start), "--json"]  # fmt: skip
    ok = subprocess.run([*argv, "--bank-csv", str(clean)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["clean"] is True

    short = _write(tmp_path / "short.csv", "date,reference,amount_pence\n2026-11-01,BANK-001,1\n")
    left = subprocess.run([*argv, "--bank-csv", str(short)], capture_output=True, text=True)
    assert left.returncode == 1
    assert json.loads(left.stdout)["amount_mismatches"][0]["reference"] == "BANK-001"
    assert {r["ref"] for r in json.loads(left.stdout)["chain_only"]} == {
        "0x" + reference_hash(r).hex() for r in ("BANK-002", "BANK-003", "PAYOUT-7")
    }


def test_bad_statement_is_one_line_naming_the_column(tmp_path):
    bad = _write(tmp_path / "bad.csv", "date,reference,amount_pence\n2026-11-01,B-1,12.50\n")
    with pytest.raises(InvalidInput) as info:
        read_bank_statement(bad)
    assert info.value.field == "amount_pence" and ":2:" in str(info.value)
    missing = _write(tmp_path / "missing.csv", "date,amount_pence\n2026-11-01,100\n")
    cli = subprocess.run([ECCOO, "treasury", "reconcile", "--network-dir", str(tmp_path),
                          "--bank-csv", str(missing)], capture_output=True, text=True)  # fmt: skip
    assert cli.returncode == 2
    assert "missing column 'reference'" in cli.stderr
    assert "Traceback" not in cli.stderr
