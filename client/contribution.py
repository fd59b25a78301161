"""The Commons Contribution in Python: how a booking is priced and split, exactly as the
CareLedger computes it (contracts/CommonsContribution.sol), so a member sees the chain's
figures before signing. Integer pennies only; it never rounds any other way than the chain.

    price              = floor(rate_per_hour * minutes / 60)
    payer_contribution = floor(price * payer_bps / 10 000)   on top, paid by the pot
    giver_contribution = floor(price * giver_bps / 10 000)   taken from the price
    pot pays = price + payer_contribution = giver_receives + contribution
"""

from __future__ import annotations

from dataclasses import dataclass

from eccoo.errors import InvalidInput

TOTAL_BPS = 10_000


@dataclass(frozen=True)
class ContributionSplit:
    """One booking's figures in pennies."""

    price: int
    payer_contribution: int
    giver_contribution: int

    @property
    def payer_pays(self) -> int:
        """What leaves the pot: the price plus the payer's contribution."""
        return self.price + self.payer_contribution

    @property
    def giver_receives(self) -> int:
        """The giver's take-home: the price less the giver's contribution."""
        return self.price - self.giver_contribution

    @property
    def contribution(self) -> int:
        """What the cooperative receives: both contributions."""
        return self.payer_contribution + self.giver_contribution


def _whole(value: int, field: str, upper: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{field} must be a whole number of at least 0", field=field)
    if upper is not None and value > upper:
        raise InvalidInput(f"{field} must be at most {upper}", field=field)
    return value


def split_price(price: int, payer_bps: int, giver_bps: int) -> ContributionSplit:
    """The two contributions on `price` pennies (each floored, in the members' favour)."""
    _whole(price, "price")
    _whole(payer_bps, "payer_bps", TOTAL_BPS)
    _whole(giver_bps, "giver_bps", TOTAL_BPS)
    return ContributionSplit(price, price * payer_bps // TOTAL_BPS, price * giver_bps // TOTAL_BPS)


def contribution_split(
    rate_per_hour: int, duration_minutes: int, payer_bps: int, giver_bps: int
) -> ContributionSplit:
    """CareLedger.contributionSplit: price a booking and split it."""
    _whole(rate_per_hour, "rate_per_hour")
    _whole(duration_minutes, "duration_minutes")
    return split_price(rate_per_hour * duration_minutes // 60, payer_bps, giver_bps)


def hourly_price_to_pot(rate_per_hour: int, payer_bps: int) -> int:
    """What one hour costs the pot (rate plus payer contribution): what a funder's cap bounds."""
    return split_price(rate_per_hour, payer_bps, 0).payer_pays
