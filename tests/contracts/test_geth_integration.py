"""On a real 4-validator Clique network: deploy (and re-deploy = verify), then one appointment
from booking to payment entirely through the forwarder, signed by members who hold no ether.
Balances and events are then read back from every node.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from eccoo.client import forwarder as fwd
from eccoo.client.deploy import deploy
from eccoo.client.deployment import load_deployment
from eccoo.client.revert import error_table
from eccoo.client.transact import Sender
from eccoo.node.keys import load_account
from eth_account import Account
from eth_utils import keccak
from fixtures.ledger import HAT, STATUS
from web3.logs import DISCARD

pytestmark = pytest.mark.geth
LA = keccak(text="funder:local-authority")


def _wait_for_block(w3, number: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while w3.eth.block_number < number:
        assert time.monotonic() < deadline, f"node never reached block {number}"
        time.sleep(0.2)


def test_deploy_then_one_appointment_through_the_forwarder(clique_ledger):
    network, deployment = clique_ledger
    w3, manifest = network.w3(0), network.manifest
    operator_account = load_account(manifest.deployer)

    # Running deploy again verifies and sends nothing.
    nonce = w3.eth.get_transaction_count(operator_account.address)
    again = deploy(network.dir)
    assert again == deployment == load_deployment(network.dir)
    assert w3.eth.get_transaction_count(operator_account.address) == nonce
    assert deployment.chain_id == manifest.chain_id
    eccoo = Path(sys.executable).parent / "eccoo"
    cli = subprocess.run([str(eccoo), "contracts", "deploy", "--network-dir", str(network.dir)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "verified" in cli.stdout and deployment.address("CareLedger") in cli.stdout
    assert w3.eth.get_transaction_count(operator_account.address) == nonce

    table = error_table(c.abi for c in deployment.contracts.values())
    operator = Sender(w3, operator_account, error_table=table)
    relayer = Sender(w3, load_account(manifest.relayers[0]), error_table=table)
    m, coin, pots, care, forwarder = (deployment.contract(w3, k) for k in (
        "Membership", "CareCoin", "FundingPots", "CareLedger", "Forwarder"))  # fmt: skip

    # Members are fresh keys with no ether at all.
    receiver, giver, arranger, funder = (Account.create() for _ in range(4))
    for member, hat in ((receiver, HAT.RECEIVER), (giver, HAT.GIVER), (arranger, HAT.ARRANGER),
                        (funder, HAT.SUPPORTER)):  # fmt: skip
        operator.transact(
            m.functions.registerMember(member.address, keccak(text=f"it:{member.address}"))
        )
        operator.transact(m.functions.grantHat(member.address, hat))
    operator.transact(pots.functions.createPot(receiver.address, [LA], [10_000]))
    pot_id = pots.functions.potCount().call()
    operator.transact(coin.functions.mint(funder.address, 10_000, keccak(text="bank:int")))

    def as_member(member, target, fn_name, *args):
        request = fwd.signed_call(forwarder, member, target, fn_name, *args)
        return fwd.relay(forwarder, request, relayer)

    as_member(receiver, m, "setArranger", receiver.address, arranger.address)
    as_member(funder, coin, "approve", pots.address, 10_000)
    as_member(funder, pots, "deposit", pot_id, LA, 6_000)
    as_member(giver, care, "setHourlyRate", 2_000)
    start = w3.eth.get_block("latest")["timestamp"] - 60
    booked = as_member(arranger, care, "book", receiver.address, giver.address, start, 90, pot_id)
    [event] = care.events.AppointmentBooked().process_receipt(booked, errors=DISCARD)
    appointment = event["args"]["appointmentId"]
    assert event["args"]["arranger"] == arranger.address
    as_member(giver, care, "markDelivered", appointment)
    as_member(giver, care, "anchorCareNote", appointment, keccak(text="care note"))
    as_member(receiver, care, "confirm", appointment)
    paid = as_member(giver, care, "releasePayment", appointment)

    # 90 minutes at 2,000 p: 3,000 p; 525 p (17.5 %) on top from the pot, 225 p (7.5 %) off.
    price, share, contribution = 3_000, 2_775, 750
    [paid_event] = care.events.AppointmentPaid().process_receipt(paid, errors=DISCARD)
    assert dict(paid_event["args"]) == {"appointmentId": appointment, "giver": giver.address,
                                        "potId": pot_id, "amount": 3_525, "giverShare": share,
                                        "payerContribution": 525,
                                        "giverContribution": 225}  # fmt: skip
    for member in (receiver, giver, arranger, funder):
        assert w3.eth.get_balance(member.address) == 0  # only the relayer paid gas

    # Every node agrees on balances, the appointment and the events.
    coop = care.functions.contributionAccount().call()
    for node in manifest.nodes:
        node_w3 = network.w3(node.index)
        _wait_for_block(node_w3, paid["blockNumber"])
        n_coin, n_care, n_pots = (deployment.contract(node_w3, k)
                                  for k in ("CareCoin", "CareLedger", "FundingPots"))  # fmt: skip
        assert n_coin.functions.balanceOf(giver.address).call() == share
        assert n_coin.functions.balanceOf(funder.address).call() == 4_000
        assert n_coin.functions.balanceOf(coop).call() >= contribution
        assert n_pots.functions.balanceOf(pot_id, LA).call() == 6_000 - 3_525
        record = n_care.functions.appointmentOf(appointment).call()
        assert record[5] == STATUS.PAID and list(record[11:]) == [price, price, 525, 225]
        logs = n_care.events.AppointmentPaid().get_logs(from_block=paid["blockNumber"],
                                                        to_block=paid["blockNumber"])  # fmt: skip
        assert [dict(log["args"]) for log in logs] == [dict(paid_event["args"])]
        notes = n_care.events.CareNoteAnchored().get_logs(from_block=booked["blockNumber"])
        assert [log["args"]["author"] for log in notes] == [giver.address]


def test_relayed_request_reports_the_inner_error(clique_ledger):
    network, deployment = clique_ledger
    w3 = network.w3(1)
    table = error_table(c.abi for c in deployment.contracts.values())
    relayer = Sender(w3, load_account(network.manifest.relayers[1]), error_table=table)
    forwarder, care = deployment.contract(w3, "Forwarder"), deployment.contract(w3, "CareLedger")
    stranger = Account.create()
    request = fwd.signed_call(forwarder, stranger, care, "confirm", 10_000)
    with pytest.raises(Exception) as caught:
        fwd.relay(forwarder, request, relayer)
    assert getattr(caught.value, "error_name", None) == "CareLedgerUnknownAppointment"
    assert caught.value.error_args == (10_000,)
