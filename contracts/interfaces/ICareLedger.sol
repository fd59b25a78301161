// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

/// @title ICareLedger
/// @notice The appointment record, events and errors of the CareLedger (see docs/contracts.md
/// for when each event fires). Status and outcome codes are the constants in CareLedger.
interface ICareLedger {
    struct Appointment {
        address receiver;
        address giver;
        address arranger;
        uint64 start;
        uint32 durationMinutes;
        uint8 status;
        uint64 deliveredAt;
        uint16 payerContributionBps;
        uint16 giverContributionBps;
        uint256 potId;
        uint256 ratePerHour;
        uint256 amount;
        uint256 paidAmount;
        uint256 payerContribution;
        uint256 giverContribution;
    }

    event AppointmentBooked(
        uint256 indexed appointmentId,
        address indexed receiver,
        address indexed giver,
        address arranger,
        uint256 potId,
        uint64 start,
        uint32 durationMinutes,
        uint256 ratePerHour,
        uint256 amount,
        uint256 payerContribution,
        uint256 giverContribution
    );
    event AppointmentDelivered(uint256 indexed appointmentId, address indexed giver, uint64 deliveredAt);
    event AppointmentConfirmed(uint256 indexed appointmentId, address indexed by);
    event AppointmentCancelled(uint256 indexed appointmentId, address indexed by);
    event AppointmentDisputed(uint256 indexed appointmentId, address indexed by, bytes32 reasonHash);
    event DisputeResolved(uint256 indexed appointmentId, address indexed coordinator, uint8 outcome, uint256 paidAmount);
    event AppointmentVoided(uint256 indexed appointmentId);
    /// @notice `amount` left the pot: `giverShare` to the giver, both contributions to the
    /// contribution account (amount = giverShare + payerContribution + giverContribution).
    event AppointmentPaid(
        uint256 indexed appointmentId,
        address indexed giver,
        uint256 indexed potId,
        uint256 amount,
        uint256 giverShare,
        uint256 payerContribution,
        uint256 giverContribution
    );
    event CareNoteAnchored(uint256 indexed appointmentId, bytes32 indexed noteHash, address indexed author);
    event HourlyRateSet(address indexed giver, uint256 ratePerHour);
    event ContributionRatesSet(uint16 payerBps, uint16 giverBps, address indexed by);
    event ContributionAccountSet(address indexed account, address indexed by);
    event DisputeWindowSet(uint32 seconds_, address indexed by);

    error CareLedgerMissingHat(address account, uint8 hat);
    error CareLedgerUnauthorized(address caller, uint256 appointmentId);
    error CareLedgerInvalidParties(address receiver, address giver);
    error CareLedgerInvalidStart(uint64 start);
    error CareLedgerInvalidDuration(uint32 durationMinutes);
    error CareLedgerInvalidRate(uint256 ratePerHour);
    error CareLedgerZeroPayment(uint256 ratePerHour, uint32 durationMinutes);
    error CareLedgerUnknownPot(uint256 potId);
    error CareLedgerPotMismatch(uint256 potId, address receiver);
    error CareLedgerUnknownAppointment(uint256 appointmentId);
    error CareLedgerInvalidStatus(uint256 appointmentId, uint8 status);
    error CareLedgerNotStarted(uint256 appointmentId, uint64 start);
    error CareLedgerTooLateToCancel(uint256 appointmentId, uint64 start);
    error CareLedgerDisputeWindowClosed(uint256 appointmentId, uint256 deadline);
    error CareLedgerInvalidResolution(uint256 appointmentId, uint256 paidAmount, uint256 amount);
    error CareLedgerInvalidNoteHash(bytes32 noteHash);
    error CareLedgerNoteAlreadyAnchored(bytes32 noteHash, uint256 appointmentId);
    error CareLedgerInvalidContributionRates(uint16 payerBps, uint16 giverBps);
    error CareLedgerInvalidDisputeWindow(uint32 seconds_);
    error CareLedgerUnregisteredAccount(address account);
    error CareLedgerContributionAccountNotSet();
    /// @notice The giver has not set an hourly rate, so they cannot be booked yet.
    error CareLedgerNoHourlyRate(address giver);
    /// @notice The hourly price to the pot (rate plus payer contribution) is over `capPerHour`,
    /// the lowest cap of the pot's funders (`funderId`'s).
    error CareLedgerOverFunderCap(uint256 potId, bytes32 funderId, uint256 capPerHour, uint256 pricePerHour);
    /// @notice `start` is earlier than `earliestStart` (the block time minus START_GRACE).
    error CareLedgerStartTooEarly(uint64 start, uint256 earliestStart);
    /// @notice The receiver's arranger (now) is also the giver: one person would sign both sides.
    error CareLedgerArrangerIsGiver(address receiver, address giver);
    /// @notice The giver tried to give the receiver side's signature (confirm or dispute).
    error CareLedgerGiverCannotSign(uint256 appointmentId, address giver);
    /// @notice The coordinator is the giver, the receiver or an arranger of the disputed appointment.
    error CareLedgerInterestedResolver(uint256 appointmentId, address coordinator);
}
