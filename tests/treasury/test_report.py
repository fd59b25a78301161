"""The month's report on the in-process chain (py-evm): a visit paid from a pot shows in the
pot's balance and the Commons Contribution account, and coin minted with no bank line is
reported as coin without money behind it."""

from __future__ import annotations

from eccoo.treasury.book import Book
from eccoo.treasury.chain import sync_movements
from eccoo.treasury.report import period_report
from eccoo.treasury.settings import TreasurySettings
from fixtures.ledger import FEE_BPS


def test_pots_contribution_and_unbacked_coin(ledger, tmp_path):
    appointment = ledger.book(minutes=60, rate=2_000)
    ledger.deliver(appointment)
    ledger.tx(ledger.care.functions.confirm(appointment), ledger.arranger)
    ledger.tx(ledger.care.functions.releasePayment(appointment), ledger.coordinator)

    with Book(tmp_path / "book.sqlite3") as book:
        settings = TreasurySettings(finality_blocks=0)
        sync_movements(book, ledger.w3, ledger.deployment, settings)
        periods = [r[0] for r in book.db.execute("SELECT DISTINCT period FROM movements")]
        report = period_report(book, max(periods))
        closing = {a.account: a.closing for a in report.accounts}
        fee = 2_000 * FEE_BPS // 10_000
        assert closing == {
            "coin in circulation": 1_000_000,  # the populated ledger's one mint
            "pot 1": 300_000 + 200_000 - 2_000,  # two funders' deposits, one visit drawn
            "Commons Contribution": fee,
        }
        assert report.unbacked_coin == 1_000_000  # no bank statement yet
        assert not report.closes
