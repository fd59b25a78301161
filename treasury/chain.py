"""Reading the chain's money movements into the book: mints, burns (payouts), pot deposits,
draws and refunds, and each visit's Commons Contribution.

Only blocks `finality_blocks` below the head are read, so nothing in the book is undone by
a reorganisation; the cursor moves in the same transaction as the rows. This module only
reads the chain; it never signs or sends a transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eccoo.client.abi import named_output
from eccoo.client.deployment import Deployment
from eccoo.treasury.book import Book, period_of
from eccoo.treasury.errors import InvalidDecision
from eccoo.treasury.settings import TreasurySettings
from web3 import Web3

# Kinds that move money in or out of the bank, and so are matched to bank lines.
MONEY_KINDS = ("mint", "burn")

Progress = Callable[[int, int], None]  # (blocks read, blocks to read)


@dataclass(frozen=True)
class SyncResult:
    from_block: int
    to_block: int
    movements: int


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex()


def _rows(coin: Any, pots: Any, ledger: Any, start: int, end: int) -> list[dict[str, Any]]:
    def logs(event: Any) -> list[Any]:
        return list(event.get_logs(from_block=start, to_block=end))

    rows: list[dict[str, Any]] = []

    def add(event: Any, kind: str, amount: int, account: str, **extra: Any) -> None:
        rows.append(
            {
                "event": f"{_hex(event.transactionHash)}:{event.logIndex}",
                "kind": kind,
                "amount": amount,
                "account": account,
                "block": event.blockNumber,
                "ref": "",
                "pot": None,
                "funder": None,
                "appointment": None,
                **extra,
            }
        )

    for e in logs(coin.events.Minted):
        add(e, "mint", e.args.amount, e.args.to, ref=_hex(e.args.bankRef))
    for e in logs(coin.events.Burned):
        add(e, "burn", -e.args.amount, e.args["from"], ref=_hex(e.args.payoutRef))
    for e in logs(pots.events.Deposited):
        add(
            e,
            "deposit",
            e.args.amount,
            e.args["from"],
            pot=e.args.potId,
            funder=_hex(e.args.funderId),
        )
    for e in logs(pots.events.Drawn):
        add(
            e,
            "draw",
            -e.args.amount,
            "",
            pot=e.args.potId,
            funder=_hex(e.args.funderId),
            appointment=e.args.appointmentId,
        )
    for e in logs(pots.events.Refunded):
        add(e, "refund", -e.args.amount, e.args.to, pot=e.args.potId, funder=_hex(e.args.funderId))
    for e in logs(ledger.events.AppointmentPaid):
        # Both contributions reach the contribution account: the payer's on top of the
        # price, the giver's out of it.
        contribution = e.args.payerContribution + e.args.giverContribution
        if contribution:
            add(
                e,
                "contribution",
                contribution,
                "",
                pot=e.args.potId,
                appointment=e.args.appointmentId,
            )
    return rows


def _visit(ledger: Any, membership: Any, appointment_id: int) -> tuple[Any, ...]:
    """A paid visit as an invoice shows it: the giver by pseudonymous member id only."""
    raw = ledger.functions.appointmentOf(appointment_id).call()
    a = named_output(ledger.abi, "appointmentOf", raw)
    pseudonym = _hex(membership.functions.memberIdOf(a["giver"]).call())
    day = datetime.fromtimestamp(a["start"], UTC).date().isoformat()
    # What the visit cost the pot: the price paid plus the payer's Commons Contribution on
    # top, which is the part of it the invoice names as the contribution.
    cost = a["paidAmount"] + a["payerContribution"]
    return (
        appointment_id,
        pseudonym,
        a["potId"],
        day,
        a["durationMinutes"],
        a["ratePerHour"],
        cost,
        a["payerContribution"],
    )


def sync_movements(
    book: Book,
    w3: Web3,
    deployment: Deployment,
    settings: TreasurySettings,
    *,
    progress: Progress | None = None,
    from_block: int | None = None,
) -> SyncResult:
    """Reads every final block not yet in the book; returns what was read. A new book
    starts at the deployment, or at `from_block` (the day the cooperative's book opens)."""
    coin, pots, ledger, membership = (
        deployment.contract(w3, k) for k in ("CareCoin", "FundingPots", "CareLedger", "Membership")
    )
    origin = f"{deployment.chain_id}:{coin.address}"
    known = book.meta("chain")
    if known and known != origin:
        raise InvalidDecision(
            f"this book follows {known}, not the deployment at {origin}", field="deployment"
        )
    first = max(deployment.start_block, from_block or 0)
    start = int(book.meta("synced_block", str(first - 1))) + 1
    end = w3.eth.block_number - settings.finality_blocks
    total = max(end - start + 1, 0)
    count = 0
    times: dict[int, int] = {}
    for chunk_start in range(start, end + 1, settings.log_chunk_blocks):
        chunk_end = min(chunk_start + settings.log_chunk_blocks - 1, end)
        rows = _rows(coin, pots, ledger, chunk_start, chunk_end)
        paid = {r["appointment"] for r in rows if r["kind"] == "draw"}
        visits = [_visit(ledger, membership, a) for a in sorted(paid)]
        for row in rows:
            if row["block"] not in times:
                times[row["block"]] = int(w3.eth.get_block(row["block"])["timestamp"])
        with book.transaction() as db:
            book.set_meta("chain", origin)
            for row in rows:
                day = datetime.fromtimestamp(times[row["block"]], UTC).date()
                # A movement in a month already locked is booked into the first open one.
                period = book.first_open_period(period_of(day))
                cursor = db.execute(
                    "INSERT OR IGNORE INTO movements (event, kind, ref, amount, account, pot, "
                    "funder, appointment, block, booked_on, period) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *(
                            row[k]
                            for k in (
                                "event",
                                "kind",
                                "ref",
                                "amount",
                                "account",
                                "pot",
                                "funder",
                                "appointment",
                                "block",
                            )
                        ),
                        day.isoformat(),
                        period,
                    ),
                )
                count += cursor.rowcount
            db.executemany(
                "INSERT OR IGNORE INTO visits (appointment, giver, pot, visit_on, minutes, rate, "
                "amount, contribution) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                visits,
            )
            book.set_meta("synced_block", str(chunk_end))
        if progress is not None:
            progress(chunk_end - start + 1, total)
    return SyncResult(start, end, count)
