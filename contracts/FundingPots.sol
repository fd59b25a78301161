// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Hats} from "./Hats.sol";
import {IFundingPots} from "./interfaces/IFundingPots.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/**
 * @title FundingPots
 * @notice One pot per care receiver, funded by several funders (bytes32 funder ids: local
 * authority, NHS, personal budget, self-funded, grant). Deposits, draws and refunds are kept
 * per funder, so for every pot and funder: balance = deposited - drawn - refunded.
 * A payment draws across the funders by their agreed shares (basis points summing to 10,000):
 * each share is floored and the remainder goes to the funder with the largest share (ties:
 * lowest index), so the draws always sum to the payment exactly. If any funder is short the
 * whole draw reverts with FundingPotsInsufficientFunds.
 * A funder may cap the hourly price it pays from its share (the giver's rate plus the payer's
 * Commons Contribution, in pennies an hour; zero means no cap). The treasurer records the cap
 * the funder agreed, as with shares; the CareLedger refuses a booking over the lowest cap.
 */
contract FundingPots is IFundingPots, ERC2771Context, ReentrancyGuard {
    using SafeERC20 for IERC20;

    uint16 public constant TOTAL_BPS = 10_000;
    uint256 public constant MAX_FUNDERS = 8;
    /// @notice Largest single movement, equal to CareCoin's supply cap: an amount above it can
    /// never be backed by coin, and refusing it by name keeps running totals far from overflow.
    uint256 public constant MAX_AMOUNT = 1e15;

    struct Pot {
        address receiver;
        bytes32[] funderIds;
        uint16[] sharesBps;
    }

    struct FunderAccount {
        uint256 deposited;
        uint256 drawn;
        uint256 refunded;
    }

    IMembership public immutable membership;
    IERC20 public immutable coin;
    address public ledger;
    uint256 public potCount;

    mapping(uint256 potId => Pot) private _pots;
    mapping(uint256 potId => mapping(bytes32 funderId => FunderAccount)) private _accounts;
    mapping(uint256 potId => mapping(bytes32 funderId => uint256 capPerHour)) private _hourlyCaps;

    event LedgerSet(address indexed ledger, address indexed by);
    event PotCreated(uint256 indexed potId, address indexed receiver, address indexed by);
    event SharesSet(uint256 indexed potId, bytes32[] funderIds, uint16[] sharesBps);
    event Deposited(uint256 indexed potId, bytes32 indexed funderId, address indexed from, uint256 amount);
    event Drawn(uint256 indexed potId, bytes32 indexed funderId, uint256 indexed appointmentId, uint256 amount);
    event Refunded(uint256 indexed potId, bytes32 indexed funderId, address indexed to, uint256 amount);
    event HourlyCapSet(uint256 indexed potId, bytes32 indexed funderId, uint256 capPerHour, address indexed by);

    error FundingPotsMissingHat(address account, uint8 hat);
    error FundingPotsInvalidAccount(address account);
    error FundingPotsNotCareReceiver(address account);
    error FundingPotsUnknownPot(uint256 potId);
    error FundingPotsInvalidFunders(uint256 funders, uint256 shares);
    error FundingPotsInvalidFunder(bytes32 funderId);
    error FundingPotsDuplicateFunder(bytes32 funderId);
    error FundingPotsInvalidShare(bytes32 funderId, uint16 shareBps);
    error FundingPotsInvalidShares(uint256 sumBps);
    error FundingPotsUnknownFunder(uint256 potId, bytes32 funderId);
    error FundingPotsInvalidAmount(uint256 amount);
    error FundingPotsInsufficientFunds(uint256 potId, bytes32 funderId, uint256 available, uint256 needed);
    error FundingPotsUnauthorizedLedger(address caller);

    constructor(address trustedForwarder, IMembership membership_, IERC20 coin_) ERC2771Context(trustedForwarder) {
        membership = membership_;
        coin = coin_;
    }

    modifier onlyHat(uint8 hat) {
        address sender = _msgSender();
        if (!membership.hasHat(sender, hat)) revert FundingPotsMissingHat(sender, hat);
        _;
    }

    /// @notice Sets the CareLedger allowed to draw payments. Admin only.
    function setLedger(address ledger_) external onlyHat(Hats.ADMIN) {
        if (ledger_ == address(0)) revert FundingPotsInvalidAccount(ledger_);
        ledger = ledger_;
        emit LedgerSet(ledger_, _msgSender());
    }

    /// @notice Opens a pot for `receiver` with funders and their shares. Treasurer only.
    /// @return potId the new pot's id (ids start at 1)
    function createPot(address receiver, bytes32[] calldata funderIds, uint16[] calldata sharesBps)
        external
        onlyHat(Hats.TREASURER)
        returns (uint256 potId)
    {
        if (!membership.hasHat(receiver, Hats.CARE_RECEIVER)) revert FundingPotsNotCareReceiver(receiver);
        _checkShares(funderIds, sharesBps);
        potId = ++potCount;
        Pot storage pot = _pots[potId];
        pot.receiver = receiver;
        pot.funderIds = funderIds;
        pot.sharesBps = sharesBps;
        emit PotCreated(potId, receiver, _msgSender());
        emit SharesSet(potId, funderIds, sharesBps);
    }

    /// @notice Replaces the funders and shares of a pot. Balances of funders dropped from the
    /// list stay recorded and can still be refunded. Treasurer only.
    function setShares(uint256 potId, bytes32[] calldata funderIds, uint16[] calldata sharesBps)
        external
        onlyHat(Hats.TREASURER)
    {
        Pot storage pot = _pot(potId);
        _checkShares(funderIds, sharesBps);
        pot.funderIds = funderIds;
        pot.sharesBps = sharesBps;
        emit SharesSet(potId, funderIds, sharesBps);
    }

    /// @notice Pays `amount` pennies of the caller's coin into the pot on behalf of `funderId`.
    /// @dev The caller must have approved this contract (approve or permit) beforehand.
    function deposit(uint256 potId, bytes32 funderId, uint256 amount) external nonReentrant {
        Pot storage pot = _pot(potId);
        _checkAmount(amount);
        if (!_isFunder(pot, funderId)) revert FundingPotsUnknownFunder(potId, funderId);
        address from = _msgSender();
        _accounts[potId][funderId].deposited += amount;
        emit Deposited(potId, funderId, from, amount);
        coin.safeTransferFrom(from, address(this), amount);
    }

    /// @notice Draws `amount` for an appointment across the pot's funders and sends it to the
    /// ledger. Only the CareLedger may call this.
    function drawForAppointment(uint256 potId, uint256 appointmentId, uint256 amount) external nonReentrant {
        if (msg.sender != ledger) revert FundingPotsUnauthorizedLedger(msg.sender);
        Pot storage pot = _pot(potId);
        _checkAmount(amount);
        uint256[] memory parts = splitPayment(potId, amount);
        uint256 n = parts.length;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 funderId = pot.funderIds[i];
            FunderAccount storage account = _accounts[potId][funderId];
            uint256 available = account.deposited - account.drawn - account.refunded;
            if (available < parts[i]) revert FundingPotsInsufficientFunds(potId, funderId, available, parts[i]);
            if (parts[i] == 0) continue;
            account.drawn += parts[i];
            emit Drawn(potId, funderId, appointmentId, parts[i]);
        }
        coin.safeTransfer(msg.sender, amount);
    }

    /// @notice Returns unspent funds of `funderId` to `to`. Treasurer only.
    function refund(uint256 potId, bytes32 funderId, uint256 amount, address to)
        external
        nonReentrant
        onlyHat(Hats.TREASURER)
    {
        _pot(potId);
        _checkAmount(amount);
        FunderAccount storage account = _accounts[potId][funderId];
        uint256 available = account.deposited - account.drawn - account.refunded;
        if (available < amount) revert FundingPotsInsufficientFunds(potId, funderId, available, amount);
        account.refunded += amount;
        emit Refunded(potId, funderId, to, amount);
        coin.safeTransfer(to, amount);
    }

    /// @notice Records the most `funderId` pays an hour from its share of pot `potId` (the
    /// giver's rate plus the payer's contribution, in pennies); zero removes the cap. Treasurer only.
    /// @dev Applies to bookings made afterwards; a booked appointment keeps its price.
    function setHourlyCap(uint256 potId, bytes32 funderId, uint256 capPerHour) external onlyHat(Hats.TREASURER) {
        Pot storage pot = _pot(potId);
        if (!_isFunder(pot, funderId)) revert FundingPotsUnknownFunder(potId, funderId);
        if (capPerHour > MAX_AMOUNT) revert FundingPotsInvalidAmount(capPerHour);
        _hourlyCaps[potId][funderId] = capPerHour;
        emit HourlyCapSet(potId, funderId, capPerHour, _msgSender());
    }

    // -------------------------------------------------------------------- views

    /// @notice The hourly cap `funderId` set on pot `potId`, zero if none.
    function hourlyCapOf(uint256 potId, bytes32 funderId) external view returns (uint256) {
        return _hourlyCaps[potId][funderId];
    }

    /// @notice The lowest hourly cap among the pot's current funders and whose it is; a zero
    /// cap (and funder id) when no current funder has one. Unknown pots answer zero too.
    function lowestHourlyCap(uint256 potId) external view returns (bytes32 funderId, uint256 capPerHour) {
        Pot storage pot = _pots[potId];
        uint256 n = pot.funderIds.length;
        for (uint256 i = 0; i < n; ++i) {
            uint256 cap = _hourlyCaps[potId][pot.funderIds[i]];
            if (cap != 0 && (capPerHour == 0 || cap < capPerHour)) {
                (funderId, capPerHour) = (pot.funderIds[i], cap);
            }
        }
    }

    /// @notice How `amount` would be split across the pot's funders (same order as fundersOf).
    function splitPayment(uint256 potId, uint256 amount) public view returns (uint256[] memory parts) {
        Pot storage pot = _pot(potId);
        uint256 n = pot.funderIds.length;
        parts = new uint256[](n);
        uint256 assigned = 0;
        uint256 largest = 0;
        for (uint256 i = 0; i < n; ++i) {
            parts[i] = (amount * pot.sharesBps[i]) / TOTAL_BPS;
            assigned += parts[i];
            // Strictly greater keeps the lowest index on ties.
            if (pot.sharesBps[i] > pot.sharesBps[largest]) largest = i;
        }
        // Each floor loses less than one penny, so the remainder is below n and goes to one funder.
        parts[largest] += amount - assigned;
    }

    /// @notice The care receiver a pot belongs to; zero if the pot does not exist.
    function receiverOf(uint256 potId) external view returns (address) {
        return _pots[potId].receiver;
    }

    /// @notice The current funders of a pot and their shares in basis points.
    function fundersOf(uint256 potId) external view returns (bytes32[] memory funderIds, uint16[] memory sharesBps) {
        Pot storage pot = _pot(potId);
        return (pot.funderIds, pot.sharesBps);
    }

    /// @notice Unspent balance of one funder in one pot.
    function balanceOf(uint256 potId, bytes32 funderId) external view returns (uint256) {
        FunderAccount storage a = _accounts[potId][funderId];
        return a.deposited - a.drawn - a.refunded;
    }

    /// @notice Running totals of one funder in one pot.
    function accountOf(uint256 potId, bytes32 funderId)
        external
        view
        returns (uint256 deposited, uint256 drawn, uint256 refunded)
    {
        FunderAccount storage a = _accounts[potId][funderId];
        return (a.deposited, a.drawn, a.refunded);
    }

    // ----------------------------------------------------------------- internal

    function _checkAmount(uint256 amount) internal pure {
        if (amount == 0 || amount > MAX_AMOUNT) revert FundingPotsInvalidAmount(amount);
    }

    function _pot(uint256 potId) internal view returns (Pot storage pot) {
        pot = _pots[potId];
        if (pot.receiver == address(0)) revert FundingPotsUnknownPot(potId);
    }

    function _isFunder(Pot storage pot, bytes32 funderId) internal view returns (bool) {
        uint256 n = pot.funderIds.length;
        for (uint256 i = 0; i < n; ++i) {
            if (pot.funderIds[i] == funderId) return true;
        }
        return false;
    }

    function _checkShares(bytes32[] calldata funderIds, uint16[] calldata sharesBps) internal pure {
        uint256 n = funderIds.length;
        if (n == 0 || n > MAX_FUNDERS || n != sharesBps.length) revert FundingPotsInvalidFunders(n, sharesBps.length);
        uint256 sum = 0;
        for (uint256 i = 0; i < n; ++i) {
            if (funderIds[i] == bytes32(0)) revert FundingPotsInvalidFunder(funderIds[i]);
            if (sharesBps[i] == 0) revert FundingPotsInvalidShare(funderIds[i], sharesBps[i]);
            for (uint256 j = 0; j < i; ++j) {
                if (funderIds[j] == funderIds[i]) revert FundingPotsDuplicateFunder(funderIds[i]);
            }
            sum += sharesBps[i];
        }
        if (sum != TOTAL_BPS) revert FundingPotsInvalidShares(sum);
    }
}
