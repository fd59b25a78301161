// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {CommonsContribution} from "./CommonsContribution.sol";
import {Hats} from "./Hats.sol";
import {ICareLedger} from "./interfaces/ICareLedger.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/**
 * @title CareLedgerPricing
 * @notice The prices the CareLedger books at: each giver's own hourly rate, and the Commons
 * Contribution rates (payer on top, giver from the price, in basis points) with the account
 * they are paid to, which only the admin hat (the cooperative's governance) changes. Quotes
 * use the same formula as bookings and payments (CommonsContribution). Moves no money.
 */
abstract contract CareLedgerPricing is ICareLedger, ERC2771Context {
    /// @notice Upper bound of either contribution, in basis points (100 %).
    uint16 public constant MAX_CONTRIBUTION_BPS = 10_000;
    /// @notice Upper bound on the hourly rate in pennies (10 million pounds an hour).
    uint256 public constant MAX_RATE_PER_HOUR = 1e9;

    IMembership public immutable membership;

    /// @notice The payer's contribution, basis points added on top of the price.
    uint16 public payerContributionBps;
    /// @notice The giver's contribution, basis points taken from the price.
    uint16 public giverContributionBps;
    /// @notice The registered account both contributions are paid to.
    address public contributionAccount;

    mapping(address giver => uint256 ratePerHour) internal _hourlyRates;

    constructor(address trustedForwarder, IMembership membership_, uint16 payerBps_, uint16 giverBps_)
        ERC2771Context(trustedForwarder)
    {
        membership = membership_;
        _setContributionRates(payerBps_, giverBps_, msg.sender);
    }

    modifier onlyHat(uint8 hat) {
        address sender = _msgSender();
        if (!membership.hasHat(sender, hat)) revert CareLedgerMissingHat(sender, hat);
        _;
    }

    /// @notice The caller, a giver, sets their own hourly rate in pennies. Bookings made
    /// afterwards are priced from it; booked appointments keep theirs.
    function setHourlyRate(uint256 ratePerHour) external {
        address giver = _msgSender();
        if (!membership.hasHat(giver, Hats.CARE_GIVER)) revert CareLedgerMissingHat(giver, Hats.CARE_GIVER);
        if (ratePerHour == 0 || ratePerHour > MAX_RATE_PER_HOUR) revert CareLedgerInvalidRate(ratePerHour);
        _hourlyRates[giver] = ratePerHour;
        emit HourlyRateSet(giver, ratePerHour);
    }

    /// @notice Sets the Commons Contribution: `payerBps` added on top of each price for the
    /// payer, `giverBps` taken from it for the giver. Admin hat (the cooperative's governance).
    /// @dev Applies to bookings made afterwards; booked appointments keep the rates they were quoted.
    function setContributionRates(uint16 payerBps, uint16 giverBps) external onlyHat(Hats.ADMIN) {
        _setContributionRates(payerBps, giverBps, _msgSender());
    }

    /// @notice Sets the registered account both contributions are paid to. Admin only.
    function setContributionAccount(address account) external onlyHat(Hats.ADMIN) {
        if (!membership.isRegistered(account)) revert CareLedgerUnregisteredAccount(account);
        contributionAccount = account;
        emit ContributionAccountSet(account, _msgSender());
    }

    /// @notice A giver's hourly rate in pennies, zero if they have not set one.
    function hourlyRateOf(address giver) external view returns (uint256) {
        return _hourlyRates[giver];
    }

    /// @notice What booking `giver` for `durationMinutes` would cost now: the price, the
    /// payer's contribution (the pot pays price + it) and the giver's (they receive price - it).
    function quote(address giver, uint32 durationMinutes)
        external
        view
        returns (uint256 price, uint256 payerContribution, uint256 giverContribution)
    {
        return contributionSplit(_hourlyRates[giver], durationMinutes, payerContributionBps, giverContributionBps);
    }

    /// @notice The price and both contributions for any rate, duration and rates (the formula
    /// every booking and payment uses; see CommonsContribution).
    function contributionSplit(uint256 ratePerHour, uint32 durationMinutes, uint16 payerBps, uint16 giverBps)
        public
        pure
        returns (uint256 price, uint256 payerContribution, uint256 giverContribution)
    {
        price = CommonsContribution.price(ratePerHour, durationMinutes);
        (payerContribution, giverContribution) = CommonsContribution.split(price, payerBps, giverBps);
    }

    function _setContributionRates(uint16 payerBps, uint16 giverBps, address by) internal {
        if (payerBps > MAX_CONTRIBUTION_BPS || giverBps > MAX_CONTRIBUTION_BPS) {
            revert CareLedgerInvalidContributionRates(payerBps, giverBps);
        }
        payerContributionBps = payerBps;
        giverContributionBps = giverBps;
        emit ContributionRatesSet(payerBps, giverBps, by);
    }
}
