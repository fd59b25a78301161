"""CareCoin: mint/burn with references, permissioned transfers, pause, permit, supply cap."""

from __future__ import annotations

from eth_account.messages import encode_typed_data
from eth_utils import keccak
from fixtures.ledger import TREASURER_ROLE

REF = keccak(text="bank:ref")


def test_unit_is_pennies(ledger):
    coin = ledger.coin.functions
    assert coin.decimals().call() == 2
    assert coin.symbol().call() == "CARE"
    assert coin.SUPPLY_CAP().call() == 10**15


def test_mint_emits_minted_and_transfer(ledger):
    supply = ledger.coin.functions.totalSupply().call()
    receipt = ledger.tx(ledger.coin.functions.mint(ledger.giver, 12_345, REF), ledger.admin)
    assert ledger.events(receipt, ledger.coin, "Minted") == [
        {"to": ledger.giver, "amount": 12_345, "bankRef": REF, "treasurer": ledger.admin}
    ]
    [transfer] = ledger.events(receipt, ledger.coin, "Transfer")
    assert transfer["to"] == ledger.giver and transfer["value"] == 12_345
    assert ledger.balance(ledger.giver) == 12_345
    assert ledger.coin.functions.totalSupply().call() == supply + 12_345


def test_burn_own_balance_and_with_allowance(ledger):
    coin = ledger.coin.functions
    ledger.tx(coin.mint(ledger.admin, 500, REF), ledger.admin)
    receipt = ledger.tx(coin.burn(ledger.admin, 200, keccak(text="payout:1")), ledger.admin)
    assert ledger.events(receipt, ledger.coin, "Burned") == [
        {"from": ledger.admin, "amount": 200, "payoutRef": keccak(text="payout:1"),
         "treasurer": ledger.admin}
    ]  # fmt: skip
    assert ledger.balance(ledger.admin) == 300
    before = ledger.balance(ledger.funder)
    ledger.tx(coin.approve(ledger.admin, 100), ledger.funder)
    ledger.tx(coin.burn(ledger.funder, 100, keccak(text="payout:2")), ledger.admin)
    assert ledger.balance(ledger.funder) == before - 100


def test_burn_without_allowance_reverts(ledger):
    err = ledger.reverts(ledger.coin.functions.burn(ledger.funder, 1, REF), ledger.admin)
    assert err.name == "ERC20InsufficientAllowance"
    assert err.args == (ledger.admin, 0, 1)


def test_bad_amounts_and_refs(ledger):
    coin = ledger.coin.functions
    supply = coin.totalSupply().call()
    cases = [
        (coin.mint(ledger.giver, 0, REF), "CareCoinInvalidAmount", (0,)),
        (coin.mint(ledger.giver, 5, b"\0" * 32), "CareCoinInvalidRef", (b"\0" * 32,)),
        (coin.mint(ledger.giver, 10**15, REF), "CareCoinSupplyCapExceeded", (supply, 10**15)),
        (coin.mint(ledger.giver, 2**256 - 1, REF), "CareCoinSupplyCapExceeded", (supply, 10**15)),
        (coin.burn(ledger.admin, 0, REF), "CareCoinInvalidAmount", (0,)),
        (coin.burn(ledger.admin, 1, b"\0" * 32), "CareCoinInvalidRef", (b"\0" * 32,)),
    ]
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)
    assert coin.totalSupply().call() == supply


def test_transfer_between_members(ledger):
    receipt = ledger.tx(ledger.coin.functions.transfer(ledger.giver, 250), ledger.funder)
    assert ledger.events(receipt, ledger.coin, "Transfer") == [
        {"from": ledger.funder, "to": ledger.giver, "value": 250}
    ]
    assert ledger.balance(ledger.giver) == 250


def test_unregistered_accounts_never_hold_coin(ledger):
    coin = ledger.coin.functions
    err = ledger.reverts(coin.transfer(ledger.outsider, 1), ledger.funder)
    assert (err.name, err.args) == ("CareCoinUnregisteredAccount", (ledger.outsider,))
    err = ledger.reverts(coin.mint(ledger.outsider, 1, REF), ledger.admin)
    assert (err.name, err.args) == ("CareCoinUnregisteredAccount", (ledger.outsider,))
    assert ledger.balance(ledger.outsider) == 0


def test_pause_stops_every_movement(ledger):
    coin = ledger.coin.functions
    receipt = ledger.tx(coin.pause(), ledger.admin)
    assert ledger.events(receipt, ledger.coin, "Paused") == [{"account": ledger.admin}]
    for call, sender in ((coin.transfer(ledger.giver, 1), ledger.funder),
                         (coin.mint(ledger.giver, 1, REF), ledger.admin),
                         (coin.burn(ledger.admin, 1, REF), ledger.admin)):  # fmt: skip
        assert ledger.reverts(call, sender).name == "EnforcedPause"
    receipt = ledger.tx(coin.unpause(), ledger.admin)
    assert ledger.events(receipt, ledger.coin, "Unpaused") == [{"account": ledger.admin}]
    ledger.tx(coin.transfer(ledger.giver, 1), ledger.funder)


def test_pause_twice_and_unpause_unpaused(ledger):
    coin = ledger.coin.functions
    assert ledger.reverts(coin.unpause(), ledger.admin).name == "ExpectedPause"
    ledger.tx(coin.pause(), ledger.admin)
    assert ledger.reverts(coin.pause(), ledger.admin).name == "EnforcedPause"


def test_treasurer_role_granted_and_revoked(ledger):
    coin = ledger.coin.functions
    receipt = ledger.tx(coin.grantRole(TREASURER_ROLE, ledger.coordinator), ledger.admin)
    assert ledger.events(receipt, ledger.coin, "RoleGranted")[0]["account"] == ledger.coordinator
    ledger.tx(coin.mint(ledger.giver, 7, REF), ledger.coordinator)
    ledger.tx(coin.revokeRole(TREASURER_ROLE, ledger.coordinator), ledger.admin)
    err = ledger.reverts(coin.mint(ledger.giver, 7, REF), ledger.coordinator)
    assert (err.name, err.args) == ("AccessControlUnauthorizedAccount",
                                    (ledger.coordinator, TREASURER_ROLE))  # fmt: skip


def test_permit_sets_allowance_by_signature(ledger):
    coin = ledger.coin.functions
    owner = ledger.account["funder"]
    deadline = ledger.now() + 3600
    message = {"owner": owner.address, "spender": ledger.giver, "value": 77,
               "nonce": coin.nonces(owner.address).call(), "deadline": deadline}  # fmt: skip
    domain = {"name": "Care Coin", "version": "1", "chainId": ledger.w3.eth.chain_id,
              "verifyingContract": ledger.coin.address}  # fmt: skip
    types = {"Permit": [{"name": n, "type": t} for n, t in (
        ("owner", "address"), ("spender", "address"), ("value", "uint256"),
        ("nonce", "uint256"), ("deadline", "uint256"))]}  # fmt: skip
    sig = owner.sign_message(encode_typed_data(domain, types, message))
    r, s = sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")
    ledger.tx(coin.permit(owner.address, ledger.giver, 77, deadline, sig.v, r, s), ledger.giver)
    assert coin.allowance(owner.address, ledger.giver).call() == 77
    ledger.tx(coin.transferFrom(owner.address, ledger.giver, 77), ledger.giver)
    assert ledger.balance(ledger.giver) == 77
