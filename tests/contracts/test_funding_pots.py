"""FundingPots: pots, shares, deposits, draws by share with exact rounding, refunds."""

from __future__ import annotations

from eth_utils import keccak
from fixtures.ledger import LA, NHS

GRANT = keccak(text="funder:grant")
SELF = keccak(text="funder:self")
ZERO32 = b"\0" * 32


def test_populated_pot(ledger):
    p = ledger.pots.functions
    assert p.potCount().call() == 1
    assert p.receiverOf(1).call() == ledger.receiver
    assert p.fundersOf(1).call() == [[LA, NHS], [6000, 4000]]
    assert p.accountOf(1, LA).call() == [300_000, 0, 0]
    assert ledger.balance(ledger.pots.address) == 500_000


def test_create_pot_and_set_shares(ledger):
    p = ledger.pots.functions
    ledger.tx(ledger.membership.functions.grantHat(ledger.receiver2, 0), ledger.coordinator)
    receipt = ledger.tx(p.createPot(ledger.receiver2, [SELF], [10_000]), ledger.admin)
    assert ledger.events(receipt, ledger.pots, "PotCreated") == [
        {"potId": 2, "receiver": ledger.receiver2, "by": ledger.admin}
    ]
    assert ledger.events(receipt, ledger.pots, "SharesSet") == [
        {"potId": 2, "funderIds": [SELF], "sharesBps": [10_000]}
    ]
    receipt = ledger.tx(p.setShares(2, [SELF, GRANT], [3_333, 6_667]), ledger.admin)
    assert ledger.events(receipt, ledger.pots, "SharesSet") == [
        {"potId": 2, "funderIds": [SELF, GRANT], "sharesBps": [3_333, 6_667]}
    ]


def test_share_validation(ledger):
    p = ledger.pots.functions
    cases = [
        (p.setShares(1, [LA, NHS], [6000, 3999]), "FundingPotsInvalidShares", (9_999,)),
        (p.setShares(1, [LA, NHS], [6000, 4001]), "FundingPotsInvalidShares", (10_001,)),
        (p.setShares(1, [LA, NHS], [10_000, 0]), "FundingPotsInvalidShare", (NHS, 0)),
        (p.setShares(1, [LA, LA], [5000, 5000]), "FundingPotsDuplicateFunder", (LA,)),
        (p.setShares(1, [ZERO32], [10_000]), "FundingPotsInvalidFunder", (ZERO32,)),
        (p.setShares(1, [LA, NHS], [10_000]), "FundingPotsInvalidFunders", (2, 1)),
        (p.setShares(1, [], []), "FundingPotsInvalidFunders", (0, 0)),
        (p.setShares(1, [keccak(i) for i in range(9)], [1111] * 8 + [1112]),
         "FundingPotsInvalidFunders", (9, 9)),
        (p.setShares(7, [LA], [10_000]), "FundingPotsUnknownPot", (7,)),
        (p.createPot(ledger.giver, [LA], [10_000]), "FundingPotsNotCareReceiver", (ledger.giver,)),
    ]  # fmt: skip
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)
    assert p.fundersOf(1).call() == [[LA, NHS], [6000, 4000]]
    assert p.potCount().call() == 1


def test_deposit(ledger):
    p = ledger.pots.functions
    receipt = ledger.tx(p.deposit(1, NHS, 1_234), ledger.funder)
    assert ledger.events(receipt, ledger.pots, "Deposited") == [
        {"potId": 1, "funderId": NHS, "from": ledger.funder, "amount": 1_234}
    ]
    assert ledger.pot_balance(1, NHS) == 201_234


def test_deposit_bad_input(ledger):
    p = ledger.pots.functions
    before = ledger.balance(ledger.funder)
    cases = [
        (p.deposit(1, NHS, 0), "FundingPotsInvalidAmount", (0,)),
        (p.deposit(1, GRANT, 5), "FundingPotsUnknownFunder", (1, GRANT)),
        (p.deposit(3, NHS, 5), "FundingPotsUnknownPot", (3,)),
        (p.deposit(1, NHS, 10**9), "ERC20InsufficientBalance", (ledger.funder, before, 10**9)),
        (p.deposit(1, NHS, 10**15 + 1), "FundingPotsInvalidAmount", (10**15 + 1,)),
        (p.deposit(1, NHS, 2**256 - 1), "FundingPotsInvalidAmount", (2**256 - 1,)),
    ]  # fmt: skip
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.funder)
        assert (err.name, err.args) == (name, args)
    assert ledger.pot_balance(1, NHS) == 200_000
    assert ledger.balance(ledger.funder) == before


def test_split_floors_and_gives_remainder_to_largest_share(ledger):
    p = ledger.pots.functions
    assert p.splitPayment(1, 2_000).call() == [1_200, 800]
    assert p.splitPayment(1, 1).call() == [1, 0]
    assert p.splitPayment(1, 7).call() == [5, 2]  # floor 4 and 2, remainder 1 -> LA (60 %)
    ledger.tx(p.setShares(1, [NHS, LA, GRANT], [3_333, 3_334, 3_333]), ledger.admin)
    assert p.splitPayment(1, 100).call() == [33, 34, 33]
    ledger.tx(p.setShares(1, [NHS, LA, GRANT], [3_334, 3_333, 3_333]), ledger.admin)
    assert p.splitPayment(1, 2).call() == [2, 0, 0]
    ledger.tx(p.setShares(1, [NHS, LA], [5_000, 5_000]), ledger.admin)
    assert p.splitPayment(1, 3).call() == [2, 1]  # tie: the lowest index takes the remainder


def test_draw_only_by_ledger(ledger):
    err = ledger.reverts(ledger.pots.functions.drawForAppointment(1, 1, 100), ledger.admin)
    assert (err.name, err.args) == ("FundingPotsUnauthorizedLedger", (ledger.admin,))


def test_payment_short_funder_reverts_and_changes_nothing(ledger):
    p = ledger.pots.functions
    ledger.tx(p.refund(1, NHS, 199_990, ledger.funder), ledger.admin)
    # 100 p and 17 p payer contribution: NHS owes 40 % of 117 p (46 p), holds 10 p.
    appointment = ledger.book(minutes=60, rate=100)
    ledger.deliver(appointment)
    ledger.tx(ledger.care.functions.confirm(appointment), ledger.receiver)
    err = ledger.reverts(ledger.care.functions.releasePayment(appointment), ledger.giver)
    assert (err.name, err.args) == ("FundingPotsInsufficientFunds", (1, NHS, 10, 46))
    assert ledger.pot_balance(1, LA) == 300_000 and ledger.pot_balance(1, NHS) == 10
    assert ledger.appointment(appointment)["status"] == 3


def test_refund(ledger):
    p = ledger.pots.functions
    before = ledger.balance(ledger.funder)
    receipt = ledger.tx(p.refund(1, LA, 1_000, ledger.funder), ledger.admin)
    assert ledger.events(receipt, ledger.pots, "Refunded") == [
        {"potId": 1, "funderId": LA, "to": ledger.funder, "amount": 1_000}
    ]
    assert p.accountOf(1, LA).call() == [300_000, 0, 1_000]
    assert ledger.balance(ledger.funder) == before + 1_000


def test_refund_bad_input(ledger):
    p = ledger.pots.functions
    cases = [
        (p.refund(1, LA, 0, ledger.funder), "FundingPotsInvalidAmount", (0,)),
        (p.refund(1, LA, 2**256 - 1, ledger.funder), "FundingPotsInvalidAmount", (2**256 - 1,)),
        (p.refund(1, LA, 300_001, ledger.funder), "FundingPotsInsufficientFunds",
         (1, LA, 300_000, 300_001)),
        (p.refund(1, GRANT, 1, ledger.funder), "FundingPotsInsufficientFunds", (1, GRANT, 0, 1)),
        (p.refund(2, LA, 1, ledger.funder), "FundingPotsUnknownPot", (2,)),
        (p.refund(1, LA, 1, ledger.outsider), "CareCoinUnregisteredAccount", (ledger.outsider,)),
    ]  # fmt: skip
    for call, name, args in cases:
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)
    assert p.accountOf(1, LA).call() == [300_000, 0, 0]


def test_funder_dropped_from_shares_can_still_be_refunded(ledger):
    p = ledger.pots.functions
    ledger.tx(p.setShares(1, [LA], [10_000]), ledger.admin)
    err = ledger.reverts(p.deposit(1, NHS, 1), ledger.funder)
    assert (err.name, err.args) == ("FundingPotsUnknownFunder", (1, NHS))
    ledger.tx(p.refund(1, NHS, 200_000, ledger.funder), ledger.admin)
    assert ledger.pot_balance(1, NHS) == 0


def test_set_ledger(ledger):
    receipt = ledger.tx(ledger.pots.functions.setLedger(ledger.giver), ledger.admin)
    assert ledger.events(receipt, ledger.pots, "LedgerSet") == [
        {"ledger": ledger.giver, "by": ledger.admin}
    ]
    err = ledger.reverts(ledger.pots.functions.setLedger("0x" + "00" * 20), ledger.admin)
    assert err.name == "FundingPotsInvalidAccount"
