// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

/**
 * @title Hats
 * @notice The hats (roles) a member of the cooperative can wear, as small integers so a
 * member's hats fit in one bitmap. The numbering is part of the ABI: never renumber.
 */
library Hats {
    uint8 internal constant CARE_RECEIVER = 0;
    uint8 internal constant CARE_GIVER = 1;
    uint8 internal constant ARRANGER = 2;
    uint8 internal constant SUPPORTER = 3;
    uint8 internal constant COORDINATOR = 4;
    uint8 internal constant TREASURER = 5;
    uint8 internal constant ADMIN = 6;
    uint8 internal constant COUNT = 7;

    /// @dev Care hats are the ones a coordinator may grant; the others need an admin.
    function isCareHat(uint8 hat) internal pure returns (bool) {
        return hat <= SUPPORTER;
    }
}
