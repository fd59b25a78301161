// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

/// @title IFundingPots
/// @notice What the CareLedger asks of the funding pots.
interface IFundingPots {
    function receiverOf(uint256 potId) external view returns (address);

    function lowestHourlyCap(uint256 potId) external view returns (bytes32 funderId, uint256 capPerHour);

    function drawForAppointment(uint256 potId, uint256 appointmentId, uint256 amount) external;
}
