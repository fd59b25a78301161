"""What a booking will cost and why a pricing call is refused, in the cooperative's words.

Reads the giver's rate, the Commons Contribution and the pot's lowest funder cap from the
chain and computes the split with the one formula (eccoo.client.contribution), so a member
sees the chain's own figures before signing. Reads only: it never queues or signs.
"""

from __future__ import annotations

from eccoo.client.contribution import contribution_split, hourly_price_to_pot
from eccoo.gateway.api.schemas import QuotePublic
from eccoo.gateway.errors import BadRequestField, OverFunderCap
from eccoo.gateway.tx.ledger import Ledger

# The ledger's pricing refusals: the request field each concerns and what it means.
REFUSALS: dict[str, tuple[str, str]] = {
    "CareLedgerNoHourlyRate": ("giver", "this giver has not set an hourly rate yet"),
    "CareLedgerOverFunderCap": ("pot_id", "the hourly price is over a funder's cap on this pot"),
    "CareLedgerZeroPayment": ("duration_minutes", "the visit is too short to cost a penny"),
    "CareLedgerInvalidRate": ("rate_per_hour", "the hourly rate must be 1 p to 10,000,000 pounds"),
    "CareLedgerInvalidContributionRates": (
        "payer_bps",
        "a contribution cannot be more than 10,000 basis points (100 %)",
    ),
}


def refusal_words(error: str | None) -> dict[str, str | None]:
    """`error_field` and `error_message` for a transaction refused with `error`, if known."""
    field, words = REFUSALS.get(error or "", (None, None))
    return {"error_field": field, "error_message": words}


def quote_booking(ledger: Ledger, giver: str, duration_minutes: int, pot_id: int) -> QuotePublic:
    """The booking's price and contributions now; raises the refusal the chain would give
    (BadRequestField naming the field, OverFunderCap naming the cap) instead."""
    rate, payer_bps, giver_bps, lowest = ledger.batch_call(
        [
            ("CareLedger", "hourlyRateOf", (giver,)),
            ("CareLedger", "payerContributionBps", ()),
            ("CareLedger", "giverContributionBps", ()),
            ("FundingPots", "lowestHourlyCap", (pot_id,)),
        ]
    )
    if rate == 0:
        raise BadRequestField(REFUSALS["CareLedgerNoHourlyRate"][1], field="giver")
    split = contribution_split(rate, duration_minutes, payer_bps, giver_bps)
    if split.price == 0:
        raise BadRequestField(REFUSALS["CareLedgerZeroPayment"][1], field="duration_minutes")
    funder_id, cap = lowest
    per_hour = hourly_price_to_pot(rate, payer_bps)
    if cap and per_hour > cap:
        raise OverFunderCap(
            f"the hourly price to this pot, {per_hour} p (the giver's {rate} p and the "
            f"payer's contribution), is over its funder's cap of {cap} p an hour",
            field="pot_id",
            cap_per_hour=cap,
            price_per_hour=per_hour,
            funder_id="0x" + bytes(funder_id).hex(),
        )
    return QuotePublic(
        giver=giver,
        duration_minutes=duration_minutes,
        pot_id=pot_id,
        rate_per_hour=rate,
        price=split.price,
        payer_bps=payer_bps,
        giver_bps=giver_bps,
        payer_contribution=split.payer_contribution,
        giver_contribution=split.giver_contribution,
        payer_pays=split.payer_pays,
        giver_receives=split.giver_receives,
        contribution=split.contribution,
    )
