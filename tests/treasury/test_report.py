"""The month's report on the in-process chain (py-evm): a visit paid from a pot shows in the
pot's balance and the Commons Contribution account, and coin minted with no bank line is
reported as coin without money behind it."""

from __future__ import annotations

from eccoo.treasury.book import Book
from eccoo.treasury.chain import sync_movements
from eccoo.treasury.importing import import_statement
from eccoo.treasury.report import period_report
from eccoo.treasury.settings import TreasurySettings
from eccoo.treasury.statements import read_statement
from fixtures.ledger import GIVER_BPS, PAYER_BPS
from fixtures.statements import UK_BANK_CSV


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
        # An hour at £20: the pot pays 2,000 + 350 on top; 150 comes out of the giver's 2,000.
        payer, giver = 2_000 * PAYER_BPS // 10_000, 2_000 * GIVER_BPS // 10_000
        assert (payer, giver) == (350, 150)
        assert closing == {
            "coin in circulation": 1_000_000,  # the populated ledger's one mint
            "pot 1": 300_000 + 200_000 - 2_000 - payer,  # two funders' deposits, one visit
            "Commons Contribution": payer + giver,
        }
        assert report.unbacked_coin == 1_000_000  # no bank statement yet
        assert report.money_without_coin == 0
        assert not report.closes


def test_money_not_yet_minted_is_shown_the_other_way_round(tmp_path):
    statement = tmp_path / "nov.csv"
    statement.write_text(UK_BANK_CSV)
    with Book(tmp_path / "book.sqlite3") as book:
        import_statement(book, read_statement(statement), statement, who="tess")
        report = period_report(book, "2026-11")
        assert (report.unbacked_coin, report.money_without_coin) == (0, 10_000 + 125_050 - 1_000)
        assert report.line_states["unmatched"] == 3 and not report.closes
        assert {a.account: (a.opening, a.closing) for a in report.accounts} == {
            "bank:bank": (0, 134_050)
        }
        assert period_report(book, "2026-12").accounts[0].opening == 134_050
