// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

/**
 * @title CommonsContribution
 * @notice How a booking is priced and split, in integer pennies (the one formula; the Python
 * twin is eccoo.client.contribution and is checked against this library's view on the ledger):
 *   price              = floor(ratePerHour * minutes / 60)
 *   payerContribution  = floor(price * payerBps / 10 000)   on top of the price, paid by the pot
 *   giverContribution  = floor(price * giverBps / 10 000)   taken from the price
 *   the pot pays       price + payerContribution
 *   the giver receives price - giverContribution
 *   the cooperative    payerContribution + giverContribution
 * Every floor rounds in the members' favour (the cooperative never gets a fraction of a penny
 * more), and giver + cooperative = what the pot pays, exactly. Never holds state.
 */
library CommonsContribution {
    uint16 internal constant TOTAL_BPS = 10_000;

    /// @dev The price of `durationMinutes` at `ratePerHour` pennies an hour, floored.
    function price(uint256 ratePerHour, uint256 durationMinutes) internal pure returns (uint256) {
        return (ratePerHour * durationMinutes) / 60;
    }

    /// @dev The two contributions on `price` at the given basis points, each floored.
    /// `giverBps` is at most TOTAL_BPS (checked where it is set), so the giver's take-home
    /// `price - giverContribution` never underflows.
    function split(uint256 price_, uint16 payerBps, uint16 giverBps)
        internal
        pure
        returns (uint256 payerContribution, uint256 giverContribution)
    {
        payerContribution = (price_ * payerBps) / TOTAL_BPS;
        giverContribution = (price_ * giverBps) / TOTAL_BPS;
    }
}
