"""The Commons Contribution on chain: givers' own rates, the contribution rates the governance
hat sets, quotes, funder caps, and the Python formula checked against the chain's own view."""

from __future__ import annotations

from eccoo.client.contribution import contribution_split
from fixtures.ledger import GIVER_BPS, HAT, LA, NHS, PAYER_BPS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_deployed_with_the_published_rates(ledger):
    care = ledger.care.functions
    assert (care.payerContributionBps().call(), care.giverContributionBps().call()) == (1750, 750)
    assert care.contributionAccount().call() == ledger.admin
    [deployed] = ledger.care.events.ContributionRatesSet().get_logs(from_block=0)
    assert dict(deployed["args"]) == {"payerBps": PAYER_BPS, "giverBps": GIVER_BPS,
                                      "by": ledger.admin}  # fmt: skip


def test_giver_sets_their_own_rate(ledger):
    care = ledger.care.functions
    receipt = ledger.tx(care.setHourlyRate(1_850), ledger.giver)
    assert ledger.events(receipt, ledger.care, "HourlyRateSet") == [
        {"giver": ledger.giver, "ratePerHour": 1_850}
    ]
    assert care.hourlyRateOf(ledger.giver).call() == 1_850
    assert care.hourlyRateOf(ledger.giver2).call() == 0
    for rate in (0, 10**9 + 1):
        err = ledger.reverts(care.setHourlyRate(rate), ledger.giver)
        assert (err.name, err.args) == ("CareLedgerInvalidRate", (rate,))
    err = ledger.reverts(care.setHourlyRate(1_000), ledger.supporter)
    assert (err.name, err.args) == ("CareLedgerMissingHat", (ledger.supporter, HAT.GIVER))


def test_a_giver_without_a_rate_cannot_be_booked(ledger):
    care = ledger.care.functions
    ledger.tx(ledger.membership.functions.grantHat(ledger.giver2, HAT.GIVER), ledger.coordinator)
    call = care.book(ledger.receiver, ledger.giver2, ledger.now() + 3600, 60, 1)
    err = ledger.reverts(call, ledger.arranger)
    assert (err.name, err.args) == ("CareLedgerNoHourlyRate", (ledger.giver2,))
    ledger.tx(care.setHourlyRate(59), ledger.giver2)
    call = care.book(ledger.receiver, ledger.giver2, ledger.now() + 3600, 1, 1)
    err = ledger.reverts(call, ledger.arranger)  # 59 p an hour for one minute: under a penny
    assert (err.name, err.args) == ("CareLedgerZeroPayment", (59, 1))


def test_a_booked_appointment_keeps_its_price_and_rates(ledger):
    care = ledger.care.functions
    ledger.tx(care.setHourlyRate(1_200), ledger.giver)
    assert care.quote(ledger.giver, 90).call() == [1_800, 315, 135]
    appointment = ledger.book(start_in=-10, minutes=90, rate=1_200)
    ledger.tx(care.setHourlyRate(5_000), ledger.giver)
    ledger.tx(care.setContributionRates(0, 0), ledger.admin)
    ledger.deliver(appointment)
    ledger.tx(care.confirm(appointment), ledger.receiver)
    receipt = ledger.tx(care.releasePayment(appointment), ledger.outsider)
    assert ledger.events(receipt, ledger.care, "AppointmentPaid")[0] == {
        "appointmentId": appointment, "giver": ledger.giver, "potId": 1, "amount": 2_115,
        "giverShare": 1_665, "payerContribution": 315, "giverContribution": 135,
    }  # fmt: skip


def test_governance_changes_the_rates(ledger):
    care = ledger.care.functions
    receipt = ledger.tx(care.setContributionRates(2_000, 1_000), ledger.admin)
    assert ledger.events(receipt, ledger.care, "ContributionRatesSet") == [
        {"payerBps": 2_000, "giverBps": 1_000, "by": ledger.admin}
    ]
    ledger.tx(care.setHourlyRate(1_000), ledger.giver)
    assert care.quote(ledger.giver, 60).call() == [1_000, 200, 100]
    for payer, giver in ((10_001, 0), (0, 10_001)):
        err = ledger.reverts(care.setContributionRates(payer, giver), ledger.admin)
        assert (err.name, err.args) == ("CareLedgerInvalidContributionRates", (payer, giver))
    err = ledger.reverts(care.setContributionRates(0, 0), ledger.coordinator)
    assert (err.name, err.args) == ("CareLedgerMissingHat", (ledger.coordinator, HAT.ADMIN))
    receipt = ledger.tx(care.setContributionAccount(ledger.pots.address), ledger.admin)
    assert ledger.events(receipt, ledger.care, "ContributionAccountSet") == [
        {"account": ledger.pots.address, "by": ledger.admin}
    ]
    err = ledger.reverts(care.setContributionAccount(ledger.outsider), ledger.admin)
    assert (err.name, err.args) == ("CareLedgerUnregisteredAccount", (ledger.outsider,))


def test_whole_giver_contribution_leaves_the_giver_nothing(ledger):
    care = ledger.care.functions
    ledger.tx(care.setContributionRates(0, 10_000), ledger.admin)
    appointment = ledger.book(start_in=-10)
    ledger.deliver(appointment)
    ledger.tx(care.confirm(appointment), ledger.receiver)
    receipt = ledger.tx(care.releasePayment(appointment), ledger.giver)
    [paid] = ledger.events(receipt, ledger.care, "AppointmentPaid")
    assert (paid["giverShare"], paid["giverContribution"]) == (0, paid["amount"])


def test_a_funder_caps_the_hourly_price(ledger):
    pots, care = ledger.pots.functions, ledger.care.functions
    assert pots.lowestHourlyCap(1).call() == [b"\0" * 32, 0]
    receipt = ledger.tx(pots.setHourlyCap(1, NHS, 2_500), ledger.admin)
    assert ledger.events(receipt, ledger.pots, "HourlyCapSet") == [
        {"potId": 1, "funderId": NHS, "capPerHour": 2_500, "by": ledger.admin}
    ]
    ledger.tx(pots.setHourlyCap(1, LA, 2_350), ledger.admin)
    assert pots.lowestHourlyCap(1).call() == [LA, 2_350]
    assert pots.hourlyCapOf(1, NHS).call() == 2_500
    ledger.book(rate=2_000)  # 2,000 + 17.5 % = 2,350 p an hour to the pot: at the cap
    ledger.tx(care.setHourlyRate(2_001), ledger.giver)  # 2,001 + 350 = 2,351: over it
    call = care.book(ledger.receiver, ledger.giver, ledger.now() + 3600, 30, 1)
    err = ledger.reverts(call, ledger.arranger)
    assert (err.name, err.args) == ("CareLedgerOverFunderCap", (1, LA, 2_350, 2_351))
    ledger.tx(pots.setHourlyCap(1, LA, 0), ledger.admin)  # lifted: NHS's cap is the lowest
    assert pots.lowestHourlyCap(1).call() == [NHS, 2_500]
    ledger.tx(call, ledger.arranger)


def test_hourly_cap_bad_input(ledger):
    pots = ledger.pots.functions
    unknown = b"\x01" * 32
    for call, name, args in (
        (pots.setHourlyCap(1, unknown, 1), "FundingPotsUnknownFunder", (1, unknown)),
        (pots.setHourlyCap(9, LA, 1), "FundingPotsUnknownPot", (9,)),
        (pots.setHourlyCap(1, LA, 10**15 + 1), "FundingPotsInvalidAmount", (10**15 + 1,)),
    ):
        err = ledger.reverts(call, ledger.admin)
        assert (err.name, err.args) == (name, args)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rate=st.one_of(st.integers(0, 10**9), st.integers(0, 5_000)),
    minutes=st.integers(0, 2**32 - 1),
    payer_bps=st.one_of(st.integers(0, 10_000), st.sampled_from([0, 750, 1750, 10_000])),
    giver_bps=st.one_of(st.integers(0, 10_000), st.sampled_from([0, 750, 1750, 10_000])),
)
def test_python_split_is_the_chains(ledger_chain, rate, minutes, payer_bps, giver_bps):
    """eccoo.client.contribution against CareLedger.contributionSplit, penny for penny."""
    on_chain = ledger_chain.care.functions.contributionSplit(rate, minutes, payer_bps, giver_bps)
    split = contribution_split(rate, minutes, payer_bps, giver_bps)
    assert on_chain.call() == [split.price, split.payer_contribution, split.giver_contribution]
    assert split.giver_receives + split.contribution == split.payer_pays
