// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

/// @title IMembership
/// @notice What the other ledger contracts ask the membership register.
interface IMembership {
    function isMember(address account) external view returns (bool);

    function isRegistered(address account) external view returns (bool);

    function hasHat(address account, uint8 hat) external view returns (bool);

    function arrangerOf(address receiver) external view returns (address);
}
