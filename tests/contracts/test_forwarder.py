"""Meta-transactions: member-signed EIP-712 requests relayed through the CareForwarder."""

from __future__ import annotations

import pytest
from eccoo.client import forwarder as fwd
from eccoo.client.errors import ContractReverted
from eccoo.client.revert import error_table
from eccoo.client.transact import Sender
from fixtures.ledger import STATUS


@pytest.fixture
def relayer(ledger):
    """An unregistered account with ether only: it pays gas and is never the actor."""
    table = error_table(a.abi for a in ledger.artifacts.values())
    return Sender(ledger.w3, ledger.account["outsider"], error_table=table)


def _delivered(ledger) -> int:
    appointment = ledger.book(start_in=-10)
    ledger.deliver(appointment)
    return appointment


def test_signed_request_acts_as_the_member(ledger, relayer):
    appointment = _delivered(ledger)
    request = fwd.signed_call(ledger.forwarder, ledger.account["receiver"], ledger.care,
                              "confirm", appointment)  # fmt: skip
    chain_id, forwarder_address = ledger.w3.eth.chain_id, ledger.forwarder.address
    signer = fwd.recover_signer(request, chain_id=chain_id, forwarder_address=forwarder_address)
    assert signer == ledger.receiver
    assert fwd.ForwardRequest.from_json(request.to_json()) == request
    assert ledger.forwarder.functions.verify(request.as_call_arg()).call()
    relayer_coin = ledger.balance(ledger.outsider)
    receipt = fwd.relay(ledger.forwarder, request, relayer)
    assert ledger.events(receipt, ledger.care, "AppointmentConfirmed") == [
        {"appointmentId": appointment, "by": ledger.receiver}
    ]
    assert ledger.events(receipt, ledger.forwarder, "ExecutedForwardRequest") == [
        {"signer": ledger.receiver, "nonce": 0, "success": True}
    ]
    assert ledger.forwarder.functions.nonces(ledger.receiver).call() == 1
    assert ledger.appointment(appointment)["status"] == STATUS.CONFIRMED
    assert ledger.balance(ledger.outsider) == relayer_coin == 0


def test_replayed_request_is_refused(ledger, relayer):
    appointment = _delivered(ledger)
    request = fwd.signed_call(ledger.forwarder, ledger.account["receiver"], ledger.care,
                              "anchorCareNote", appointment, b"\x01" * 32)  # fmt: skip
    fwd.relay(ledger.forwarder, request, relayer)
    err = ledger.reverts(ledger.forwarder.functions.execute(request.as_call_arg()), ledger.outsider)
    assert err.name == "ERC2771ForwarderInvalidSigner"
    assert err.args[1] == ledger.receiver and err.args[0] != ledger.receiver
    assert ledger.forwarder.functions.nonces(ledger.receiver).call() == 1


def test_expired_request_is_refused(ledger, relayer):
    appointment = _delivered(ledger)
    request = fwd.signed_call(ledger.forwarder, ledger.account["receiver"], ledger.care,
                              "confirm", appointment, ttl=60)  # fmt: skip
    ledger.travel(120)
    with pytest.raises(ContractReverted) as caught:
        fwd.relay(ledger.forwarder, request, relayer)
    assert caught.value.error_name == "ERC2771ForwarderExpiredRequest"
    assert caught.value.error_args == (request.deadline,)
    assert ledger.appointment(appointment)["status"] == STATUS.DELIVERED
    assert ledger.forwarder.functions.nonces(ledger.receiver).call() == 0


def test_request_signed_by_someone_else_is_refused(ledger, relayer):
    appointment = _delivered(ledger)
    data = fwd.encode_call(ledger.care, "confirm", appointment)
    unsigned = fwd.build_request(ledger.forwarder, ledger.receiver, ledger.care.address, data)
    forged = fwd.sign_request(ledger.account["giver"], unsigned, chain_id=ledger.w3.eth.chain_id,
                              forwarder_address=ledger.forwarder.address)  # fmt: skip
    with pytest.raises(ContractReverted) as caught:
        fwd.relay(ledger.forwarder, forged, relayer)
    assert caught.value.error_name == "ERC2771ForwarderInvalidSigner"
    assert caught.value.error_args == (ledger.giver, ledger.receiver)
    assert ledger.appointment(appointment)["status"] == STATUS.DELIVERED


def test_untrusting_target_is_refused(ledger, relayer):
    unsigned = fwd.build_request(ledger.forwarder, ledger.receiver, ledger.outsider, b"")
    request = fwd.sign_request(ledger.account["receiver"], unsigned,
                               chain_id=ledger.w3.eth.chain_id,
                               forwarder_address=ledger.forwarder.address)  # fmt: skip
    with pytest.raises(ContractReverted) as caught:
        fwd.relay(ledger.forwarder, request, relayer)
    assert caught.value.error_name == "ERC2771UntrustfulTarget"
    assert caught.value.error_args == (ledger.outsider, ledger.forwarder.address)


def test_inner_revert_is_reported_by_name(ledger, relayer):
    booked = ledger.book()
    request = fwd.signed_call(ledger.forwarder, ledger.account["receiver"], ledger.care,
                              "confirm", booked)  # fmt: skip
    with pytest.raises(ContractReverted) as caught:
        fwd.relay(ledger.forwarder, request, relayer)
    assert caught.value.error_name == "CareLedgerInvalidStatus"
    assert caught.value.error_args == (booked, STATUS.BOOKED)
    assert ledger.forwarder.functions.nonces(ledger.receiver).call() == 0
