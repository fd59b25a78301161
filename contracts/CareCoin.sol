// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/**
 * @title CareCoin
 * @notice The cooperative's pound-backed token. Unit: 1 coin = 1 GBP, 2 decimals, so one
 * base unit is one penny and every amount is an integer number of pennies. Permissioned:
 * coin moves only between accounts registered in Membership (members and system accounts).
 * Treasurers mint against a bank reference and burn against a payout reference (bytes32
 * hashes, never names or account numbers). The admin can pause every movement.
 */
contract CareCoin is ERC20Permit, AccessControl, Pausable, ERC2771Context {
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");

    /// @notice Upper bound on total supply in pennies (10^15 = 10 trillion pounds); keeps
    /// every product of amounts and basis points far from uint256 overflow.
    uint256 public constant SUPPLY_CAP = 1e15;

    IMembership public immutable membership;

    event Minted(address indexed to, uint256 amount, bytes32 indexed bankRef, address indexed treasurer);
    event Burned(address indexed from, uint256 amount, bytes32 indexed payoutRef, address indexed treasurer);

    error CareCoinInvalidAmount(uint256 amount);
    error CareCoinInvalidRef(bytes32 ref);
    error CareCoinSupplyCapExceeded(uint256 supply, uint256 cap);
    error CareCoinUnregisteredAccount(address account);

    /// @param trustedForwarder the CareForwarder
    /// @param admin holds DEFAULT_ADMIN_ROLE (grants treasurers, pauses)
    /// @param membership_ the register that decides who may hold coin
    constructor(address trustedForwarder, address admin, IMembership membership_)
        ERC20("Care Coin", "CARE")
        ERC20Permit("Care Coin")
        ERC2771Context(trustedForwarder)
    {
        membership = membership_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Pennies: 1 CARE = 100 base units = 1 GBP.
    function decimals() public pure override returns (uint8) {
        return 2;
    }

    /// @notice Mints `amount` pennies to `to` against the bank deposit `bankRef`. Treasurer only.
    function mint(address to, uint256 amount, bytes32 bankRef) external onlyRole(TREASURER_ROLE) {
        if (amount == 0) revert CareCoinInvalidAmount(amount);
        if (bankRef == bytes32(0)) revert CareCoinInvalidRef(bankRef);
        uint256 supply = totalSupply();
        // SUPPLY_CAP is far below 2^256, so an amount that would overflow fails here by name.
        if (amount > SUPPLY_CAP - supply) revert CareCoinSupplyCapExceeded(supply, SUPPLY_CAP);
        _mint(to, amount);
        emit Minted(to, amount, bankRef, _msgSender());
    }

    /// @notice Burns `amount` pennies from `from` against the bank payout `payoutRef`.
    /// @dev Treasurer only; burning from another account spends that account's allowance
    /// to the treasurer, so a member's coin is burnt only with their consent.
    function burn(address from, uint256 amount, bytes32 payoutRef) external onlyRole(TREASURER_ROLE) {
        if (amount == 0) revert CareCoinInvalidAmount(amount);
        if (payoutRef == bytes32(0)) revert CareCoinInvalidRef(payoutRef);
        address treasurer = _msgSender();
        if (from != treasurer) _spendAllowance(from, treasurer, amount);
        _burn(from, amount);
        emit Burned(from, amount, payoutRef, treasurer);
    }

    /// @notice Stops every transfer, mint and burn. Admin only.
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    /// @notice Lets coin move again. Admin only.
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    /// @dev Every movement passes here: refuse while paused and between unregistered accounts.
    function _update(address from, address to, uint256 value) internal override whenNotPaused {
        if (from != address(0) && !membership.isRegistered(from)) revert CareCoinUnregisteredAccount(from);
        if (to != address(0) && !membership.isRegistered(to)) revert CareCoinUnregisteredAccount(to);
        super._update(from, to, value);
    }

    function _msgSender() internal view override(Context, ERC2771Context) returns (address) {
        return ERC2771Context._msgSender();
    }

    function _msgData() internal view override(Context, ERC2771Context) returns (bytes calldata) {
        return ERC2771Context._msgData();
    }

    function _contextSuffixLength() internal view override(Context, ERC2771Context) returns (uint256) {
        return ERC2771Context._contextSuffixLength();
    }
}
