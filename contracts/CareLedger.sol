// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {CommonsContribution} from "./CommonsContribution.sol";
import {Hats} from "./Hats.sol";
import {CareLedgerPricing} from "./CareLedgerPricing.sol";
import {IFundingPots} from "./interfaces/IFundingPots.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/**
 * @title CareLedger
 * @notice The appointment lifecycle, from booking to payment:
 * Booked -> (giver) Delivered -> (receiver or arranger) Confirmed -> (anyone) Paid.
 * Booked -> Cancelled before the start; Delivered -> Disputed within the dispute window;
 * a coordinator resolves a dispute by paying in full, in part, or voiding (Voided).
 * A giver sets their own hourly rate; a booking is priced from it when booked:
 * price = floor(rate * durationMinutes / 60) pennies. The Commons Contribution (two basis
 * point figures the admin hat sets, fixed per appointment at booking) is added on top for the
 * payer and taken from the giver's price (see CommonsContribution): the receiver's pot pays
 * price + payer contribution, the giver receives price - giver contribution, and both
 * contributions go to the contribution account. A booking whose hourly price to the pot is
 * over a funder's cap is refused. An appointment is paid at most once: Paid is terminal.
 * The two signatures (delivered, confirmed) always come from two people: the giver never
 * confirms or disputes, the receiver's arranger is never the giver (checked at booking and
 * again at confirmation, since arrangers change), and no party or arranger resolves a dispute.
 */
contract CareLedger is CareLedgerPricing, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint8 public constant STATUS_NONE = 0;
    uint8 public constant STATUS_BOOKED = 1;
    uint8 public constant STATUS_DELIVERED = 2;
    uint8 public constant STATUS_CONFIRMED = 3;
    uint8 public constant STATUS_PAID = 4;
    uint8 public constant STATUS_CANCELLED = 5;
    uint8 public constant STATUS_DISPUTED = 6;
    uint8 public constant STATUS_VOIDED = 7;

    uint8 public constant OUTCOME_VOID = 0;
    uint8 public constant OUTCOME_PARTIAL = 1;
    uint8 public constant OUTCOME_FULL = 2;

    uint32 public constant MAX_DURATION_MINUTES = 24 * 60;
    /// @notice How far before the booking block's time a start may lie, in seconds. A member
    /// picks "now" on their own clock; the request then waits in a relayer's queue and for the
    /// next Clique block, so a start of "now" may be a little in the past when sealed. Five
    /// minutes covers that skew and delay; a start further back would let a giver mark care
    /// delivered the moment it is booked.
    uint64 public constant START_GRACE = 5 minutes;

    IERC20 public immutable coin;
    IFundingPots public immutable pots;

    uint32 public disputeWindow = 7 days;
    uint256 public appointmentCount;

    mapping(uint256 appointmentId => Appointment) private _appointments;
    mapping(bytes32 noteHash => uint256 appointmentId) private _noteAppointments;

    /// @param payerBps_ the payer's contribution at deployment (basis points)
    /// @param giverBps_ the giver's contribution at deployment (basis points)
    constructor(
        address trustedForwarder,
        IMembership membership_,
        IERC20 coin_,
        IFundingPots pots_,
        uint16 payerBps_,
        uint16 giverBps_
    ) CareLedgerPricing(trustedForwarder, membership_, payerBps_, giverBps_) {
        coin = coin_;
        pots = pots_;
    }

    // ---------------------------------------------------------------- lifecycle

    /// @notice Books care for `receiver` by `giver`, paid from pot `potId`, at the giver's
    /// hourly rate and today's contribution rates (both fixed for this appointment).
    /// @dev The receiver, the receiver's arranger or a coordinator may book. The giver is
    /// never the receiver nor the receiver's arranger, and `start` is not before the block
    /// time minus START_GRACE. The hourly price to the pot (rate plus payer contribution)
    /// is not over any current funder's cap.
    /// @return appointmentId the new appointment's id (ids start at 1)
    function book(address receiver, address giver, uint64 start, uint32 durationMinutes, uint256 potId)
        external
        returns (uint256 appointmentId)
    {
        address arranger = _checkBooker(receiver);
        if (arranger != address(0) && giver == arranger) revert CareLedgerArrangerIsGiver(receiver, giver);
        (uint256 ratePerHour, uint256 amount) = _checkBooking(receiver, giver, start, durationMinutes, potId);
        appointmentId = ++appointmentCount;
        Appointment storage a = _appointments[appointmentId];
        a.receiver = receiver;
        a.giver = giver;
        a.arranger = arranger;
        a.start = start;
        a.durationMinutes = durationMinutes;
        a.status = STATUS_BOOKED;
        a.payerContributionBps = payerContributionBps;
        a.giverContributionBps = giverContributionBps;
        a.potId = potId;
        a.ratePerHour = ratePerHour;
        a.amount = amount;
        _emitBooked(appointmentId, a);
    }

    /// @notice The giver marks the appointment delivered, at or after its start.
    function markDelivered(uint256 appointmentId) external {
        Appointment storage a = _inStatus(appointmentId, STATUS_BOOKED);
        address sender = _msgSender();
        if (sender != a.giver) revert CareLedgerUnauthorized(sender, appointmentId);
        if (block.timestamp < a.start) revert CareLedgerNotStarted(appointmentId, a.start);
        a.status = STATUS_DELIVERED;
        a.deliveredAt = uint64(block.timestamp);
        emit AppointmentDelivered(appointmentId, sender, uint64(block.timestamp));
    }

    /// @notice The receiver or their arranger confirms delivered care: the second signature.
    /// @dev Never the giver, and not while the receiver's arranger is the giver (the arranger
    /// may have changed since booking).
    function confirm(uint256 appointmentId) external {
        Appointment storage a = _inStatus(appointmentId, STATUS_DELIVERED);
        address sender = _msgSender();
        _checkReceiverSignature(appointmentId, a, sender);
        if (membership.arrangerOf(a.receiver) == a.giver) revert CareLedgerArrangerIsGiver(a.receiver, a.giver);
        a.status = STATUS_CONFIRMED;
        emit AppointmentConfirmed(appointmentId, sender);
    }

    /// @notice Releases the payment of a confirmed appointment from the pot. Anyone may call.
    function releasePayment(uint256 appointmentId) external nonReentrant {
        Appointment storage a = _inStatus(appointmentId, STATUS_CONFIRMED);
        _pay(appointmentId, a, a.amount);
    }

    /// @notice Cancels a booked appointment before it starts. Either party, the arranger or a coordinator.
    function cancel(uint256 appointmentId) external {
        Appointment storage a = _inStatus(appointmentId, STATUS_BOOKED);
        address sender = _msgSender();
        if (!_isReceiverSide(a, sender) && sender != a.giver && !membership.hasHat(sender, Hats.COORDINATOR)) {
            revert CareLedgerUnauthorized(sender, appointmentId);
        }
        if (block.timestamp >= a.start) revert CareLedgerTooLateToCancel(appointmentId, a.start);
        a.status = STATUS_CANCELLED;
        emit AppointmentCancelled(appointmentId, sender);
    }

    /// @notice The receiver or their arranger disputes delivered care within the dispute window.
    /// @param reasonHash hash of the reason, kept off chain
    /// @dev Never the giver (who may have become the receiver's arranger since booking).
    function dispute(uint256 appointmentId, bytes32 reasonHash) external {
        Appointment storage a = _inStatus(appointmentId, STATUS_DELIVERED);
        address sender = _msgSender();
        _checkReceiverSignature(appointmentId, a, sender);
        uint256 deadline = uint256(a.deliveredAt) + disputeWindow;
        if (block.timestamp > deadline) revert CareLedgerDisputeWindowClosed(appointmentId, deadline);
        a.status = STATUS_DISPUTED;
        emit AppointmentDisputed(appointmentId, sender, reasonHash);
    }

    /// @notice A coordinator who is not a party resolves a dispute: pay `paidAmount`
    /// (the full amount, part of it, or zero to void).
    /// @dev Not the giver, the receiver, the arranger recorded at booking nor the current one.
    function resolveDispute(uint256 appointmentId, uint256 paidAmount) external nonReentrant onlyHat(Hats.COORDINATOR) {
        Appointment storage a = _inStatus(appointmentId, STATUS_DISPUTED);
        address sender = _msgSender();
        if (
            sender == a.receiver || sender == a.giver || sender == a.arranger
                || sender == membership.arrangerOf(a.receiver)
        ) revert CareLedgerInterestedResolver(appointmentId, sender);
        if (paidAmount > a.amount) revert CareLedgerInvalidResolution(appointmentId, paidAmount, a.amount);
        if (paidAmount == 0) {
            a.status = STATUS_VOIDED;
            emit DisputeResolved(appointmentId, sender, OUTCOME_VOID, 0);
            emit AppointmentVoided(appointmentId);
            return;
        }
        emit DisputeResolved(appointmentId, sender, paidAmount == a.amount ? OUTCOME_FULL : OUTCOME_PARTIAL, paidAmount);
        _pay(appointmentId, a, paidAmount);
    }

    /// @notice Anchors the hash of a care note against an appointment. A party or the arranger.
    function anchorCareNote(uint256 appointmentId, bytes32 noteHash) external {
        Appointment storage a = _appointment(appointmentId);
        address sender = _msgSender();
        if (sender != a.giver && !_isReceiverSide(a, sender)) revert CareLedgerUnauthorized(sender, appointmentId);
        if (noteHash == bytes32(0)) revert CareLedgerInvalidNoteHash(noteHash);
        uint256 anchoredAt = _noteAppointments[noteHash];
        if (anchoredAt != 0) revert CareLedgerNoteAlreadyAnchored(noteHash, anchoredAt);
        _noteAppointments[noteHash] = appointmentId;
        emit CareNoteAnchored(appointmentId, noteHash, sender);
    }

    // -------------------------------------------------------------------- admin

    /// @notice Sets how long after delivery a dispute may be raised, in seconds. Admin only.
    function setDisputeWindow(uint32 seconds_) external onlyHat(Hats.ADMIN) {
        if (seconds_ == 0) revert CareLedgerInvalidDisputeWindow(seconds_);
        disputeWindow = seconds_;
        emit DisputeWindowSet(seconds_, _msgSender());
    }

    // -------------------------------------------------------------------- views

    /// @notice Everything recorded about one appointment (status NONE if it does not exist).
    function appointmentOf(uint256 appointmentId) external view returns (Appointment memory) {
        return _appointments[appointmentId];
    }

    /// @notice The appointment a care note hash is anchored to, zero if none.
    function appointmentOfNote(bytes32 noteHash) external view returns (uint256) {
        return _noteAppointments[noteHash];
    }

    // ----------------------------------------------------------------- internal

    /// @dev The receiver, their arranger or a coordinator may book; returns the arranger.
    function _checkBooker(address receiver) internal view returns (address arranger) {
        address sender = _msgSender();
        arranger = membership.arrangerOf(receiver);
        if (sender != receiver && (arranger == address(0) || sender != arranger)) {
            if (!membership.hasHat(sender, Hats.COORDINATOR)) revert CareLedgerUnauthorized(sender, 0);
        }
    }

    /// @dev Validates a booking and returns the giver's rate and the price in pennies.
    function _checkBooking(address receiver, address giver, uint64 start, uint32 durationMinutes, uint256 potId)
        internal
        view
        returns (uint256 ratePerHour, uint256 amount)
    {
        if (!membership.hasHat(receiver, Hats.CARE_RECEIVER)) revert CareLedgerMissingHat(receiver, Hats.CARE_RECEIVER);
        if (!membership.hasHat(giver, Hats.CARE_GIVER)) revert CareLedgerMissingHat(giver, Hats.CARE_GIVER);
        if (giver == receiver) revert CareLedgerInvalidParties(receiver, giver);
        if (start == 0) revert CareLedgerInvalidStart(start);
        // Block times are far above START_GRACE on any real chain; the guard keeps a fresh
        // test chain at time ~0 from underflowing.
        uint256 earliest = block.timestamp > START_GRACE ? block.timestamp - START_GRACE : 0;
        if (start < earliest) revert CareLedgerStartTooEarly(start, earliest);
        if (durationMinutes == 0 || durationMinutes > MAX_DURATION_MINUTES) revert CareLedgerInvalidDuration(durationMinutes);
        ratePerHour = _hourlyRates[giver];
        if (ratePerHour == 0) revert CareLedgerNoHourlyRate(giver);
        // Both factors are bounded above (setHourlyRate, MAX_DURATION_MINUTES): no overflow.
        amount = CommonsContribution.price(ratePerHour, durationMinutes);
        if (amount == 0) revert CareLedgerZeroPayment(ratePerHour, durationMinutes);
        address potReceiver = pots.receiverOf(potId);
        if (potReceiver == address(0)) revert CareLedgerUnknownPot(potId);
        if (potReceiver != receiver) revert CareLedgerPotMismatch(potId, receiver);
        (bytes32 funderId, uint256 cap) = pots.lowestHourlyCap(potId);
        (uint256 payerPerHour,) = CommonsContribution.split(ratePerHour, payerContributionBps, 0);
        uint256 pricePerHour = ratePerHour + payerPerHour;
        if (cap != 0 && pricePerHour > cap) revert CareLedgerOverFunderCap(potId, funderId, cap, pricePerHour);
    }

    function _emitBooked(uint256 appointmentId, Appointment storage a) internal {
        (uint256 payerContribution, uint256 giverContribution) =
            CommonsContribution.split(a.amount, a.payerContributionBps, a.giverContributionBps);
        emit AppointmentBooked(
            appointmentId,
            a.receiver,
            a.giver,
            a.arranger,
            a.potId,
            a.start,
            a.durationMinutes,
            a.ratePerHour,
            a.amount,
            payerContribution,
            giverContribution
        );
    }

    /// @dev Pays `paidAmount` of the price (all of it, or what a resolution awarded) with the
    /// contribution rates fixed at booking: the pot pays price + payer contribution.
    function _pay(uint256 appointmentId, Appointment storage a, uint256 paidAmount) internal {
        // paidAmount <= MAX_RATE_PER_HOUR * MAX_DURATION_MINUTES, so nothing here can overflow.
        (uint256 payerContribution, uint256 giverContribution) =
            CommonsContribution.split(paidAmount, a.payerContributionBps, a.giverContributionBps);
        uint256 contribution = payerContribution + giverContribution;
        address contributionTo = contributionAccount;
        if (contribution > 0 && contributionTo == address(0)) revert CareLedgerContributionAccountNotSet();
        uint256 giverShare = paidAmount - giverContribution;
        uint256 drawn = paidAmount + payerContribution;
        a.status = STATUS_PAID;
        a.paidAmount = paidAmount;
        a.payerContribution = payerContribution;
        a.giverContribution = giverContribution;
        emit AppointmentPaid(
            appointmentId, a.giver, a.potId, drawn, giverShare, payerContribution, giverContribution
        );
        pots.drawForAppointment(a.potId, appointmentId, drawn);
        if (giverShare > 0) coin.safeTransfer(a.giver, giverShare);
        if (contribution > 0) coin.safeTransfer(contributionTo, contribution);
    }

    function _appointment(uint256 appointmentId) internal view returns (Appointment storage a) {
        a = _appointments[appointmentId];
        if (a.status == STATUS_NONE) revert CareLedgerUnknownAppointment(appointmentId);
    }

    function _inStatus(uint256 appointmentId, uint8 status) internal view returns (Appointment storage a) {
        a = _appointment(appointmentId);
        if (a.status != status) revert CareLedgerInvalidStatus(appointmentId, a.status);
    }

    /// @dev The confirming or disputing signature: the receiver side, and never the giver.
    function _checkReceiverSignature(uint256 appointmentId, Appointment storage a, address sender) internal view {
        if (!_isReceiverSide(a, sender)) revert CareLedgerUnauthorized(sender, appointmentId);
        if (sender == a.giver) revert CareLedgerGiverCannotSign(appointmentId, sender);
    }

    /// @dev The receiver, or whoever is the receiver's arranger now (arrangers can change).
    function _isReceiverSide(Appointment storage a, address account) internal view returns (bool) {
        if (account == a.receiver) return true;
        address arranger = membership.arrangerOf(a.receiver);
        return arranger != address(0) && account == arranger;
    }
}
