// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/**
 * @title CareForwarder
 * @notice The cooperative's ERC-2771 trusted forwarder: relays a member's EIP-712 signed
 * request so the member acts without holding ether. EIP-712 domain: name "CareForwarder",
 * version "1". Adds nothing to OpenZeppelin's ERC2771Forwarder.
 */
contract CareForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("CareForwarder") {}
}
