// SPDX-License-Identifier: AGPL-3.0-or-later
pragma solidity 0.8.28;

import {Context} from "@openzeppelin/contracts/utils/Context.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Hats} from "./Hats.sol";
import {IMembership} from "./interfaces/IMembership.sol";

/**
 * @title Membership
 * @notice The register of the cooperative: member address <-> pseudonymous member id, the
 * hats each member wears, hat requests, circles and circle roles, and system accounts
 * (pots, ledger, fee account) that may hold coin. Holds no personal data: ids and hashes only.
 * Every hat and every arrangement needs a second person: nobody grants a hat to themselves,
 * approves their own hat request, or (as coordinator) makes themselves someone's arranger.
 * The founding admin gets the admin and treasurer hats in the constructor, as nobody else
 * exists yet to grant them.
 */
contract Membership is IMembership, ERC2771Context {
    /// @notice Circle roles; NONE removes the account from the circle.
    uint8 public constant CIRCLE_NONE = 0;
    uint8 public constant CIRCLE_MEMBER = 1;
    uint8 public constant CIRCLE_REP_LINK = 2;
    uint8 public constant CIRCLE_LEAD_LINK = 3;

    struct Circle {
        bytes32 parentId;
        bytes32 aimHash;
        bytes32 domainHash;
        bool exists;
    }

    mapping(address account => bytes32) private _memberIds;
    mapping(bytes32 memberId => address) private _accounts;
    mapping(address account => bool) private _systemAccounts;
    mapping(address account => uint256) private _hats;
    mapping(address account => uint256) private _requestedHats;
    mapping(address receiver => address) private _arrangers;
    mapping(bytes32 circleId => Circle) private _circles;
    mapping(bytes32 circleId => mapping(address account => uint8)) private _circleRoles;

    event MemberRegistered(address indexed account, bytes32 indexed memberId, address indexed by);
    event SystemAccountRegistered(address indexed account, address indexed by);
    event HatGranted(address indexed account, uint8 indexed hat, address indexed by);
    event HatRevoked(address indexed account, uint8 indexed hat, address indexed by);
    event HatRequested(address indexed account, uint8 indexed hat);
    event HatRequestApproved(address indexed account, uint8 indexed hat, address indexed by);
    event HatRequestDeclined(address indexed account, uint8 indexed hat, address indexed by);
    event ArrangerSet(address indexed receiver, address indexed arranger, address indexed by);
    event CircleCreated(bytes32 indexed circleId, bytes32 indexed parentId, bytes32 aimHash, bytes32 domainHash);
    event CircleUpdated(bytes32 indexed circleId, bytes32 aimHash, bytes32 domainHash);
    event CircleRoleSet(bytes32 indexed circleId, address indexed account, uint8 role);

    error MembershipInvalidAccount(address account);
    error MembershipInvalidMemberId(bytes32 memberId);
    error MembershipAlreadyRegistered(address account);
    error MembershipMemberIdTaken(bytes32 memberId);
    error MembershipNotMember(address account);
    error MembershipInvalidHat(uint8 hat);
    error MembershipHatAlreadyHeld(address account, uint8 hat);
    error MembershipHatNotHeld(address account, uint8 hat);
    error MembershipRequestAlreadyPending(address account, uint8 hat);
    error MembershipNoPendingRequest(address account, uint8 hat);
    error MembershipMissingHat(address account, uint8 hat);
    error MembershipCannotManageHat(address caller, uint8 hat);
    error MembershipCircleExists(bytes32 circleId);
    error MembershipUnknownCircle(bytes32 circleId);
    error MembershipInvalidCircleRole(uint8 role);
    /// @notice `account` tried to put `hat` on themselves (grant or approve their own request).
    error MembershipSelfGrant(address account, uint8 hat);
    /// @notice A coordinator tried to make themselves the arranger of someone else.
    error MembershipSelfArrangement(address receiver, address arranger);

    /// @param trustedForwarder the CareForwarder every member request comes through
    /// @param admin the first member, who wears the admin and treasurer hats
    /// @param adminMemberId the admin's pseudonymous member id
    constructor(address trustedForwarder, address admin, bytes32 adminMemberId)
        ERC2771Context(trustedForwarder)
    {
        _register(admin, adminMemberId);
        _grant(admin, Hats.ADMIN);
        _grant(admin, Hats.TREASURER);
    }

    modifier onlyHat(uint8 hat) {
        _requireHat(_msgSender(), hat);
        _;
    }

    // ------------------------------------------------------------------ members

    /// @notice Registers `account` as a member with the pseudonymous id `memberId`.
    /// @dev Coordinator or admin. An id and an address are each registered once, for good.
    function registerMember(address account, bytes32 memberId) external {
        address sender = _msgSender();
        if (!_has(sender, Hats.COORDINATOR) && !_has(sender, Hats.ADMIN)) {
            revert MembershipMissingHat(sender, Hats.COORDINATOR);
        }
        _register(account, memberId);
    }

    /// @notice Registers a contract or treasury address that may hold coin without being a member.
    /// @dev Admin only.
    function registerSystemAccount(address account) external onlyHat(Hats.ADMIN) {
        if (account == address(0)) revert MembershipInvalidAccount(account);
        if (_systemAccounts[account] || _memberIds[account] != bytes32(0)) {
            revert MembershipAlreadyRegistered(account);
        }
        _systemAccounts[account] = true;
        emit SystemAccountRegistered(account, _msgSender());
    }

    // --------------------------------------------------------------------- hats

    /// @notice Puts `hat` on `account`. A coordinator grants care hats; an admin grants any hat.
    /// @dev Never to the caller: every hat carries money or authority, so it needs a second person.
    function grantHat(address account, uint8 hat) external {
        _requireCanManage(_msgSender(), hat);
        _requireOtherPerson(account, hat);
        _grant(account, hat);
    }

    /// @notice Takes `hat` off `account`. Same authority as {grantHat}.
    function revokeHat(address account, uint8 hat) external {
        _requireCanManage(_msgSender(), hat);
        if (!_has(account, hat)) revert MembershipHatNotHeld(account, hat);
        _hats[account] &= ~(uint256(1) << hat);
        emit HatRevoked(account, hat, _msgSender());
    }

    /// @notice The calling member asks for `hat`; a coordinator (care hats) or admin decides.
    function requestHat(uint8 hat) external {
        address sender = _msgSender();
        _requireValidHat(hat);
        if (_memberIds[sender] == bytes32(0)) revert MembershipNotMember(sender);
        if (_has(sender, hat)) revert MembershipHatAlreadyHeld(sender, hat);
        if (_requestedHats[sender] & (uint256(1) << hat) != 0) {
            revert MembershipRequestAlreadyPending(sender, hat);
        }
        _requestedHats[sender] |= uint256(1) << hat;
        emit HatRequested(sender, hat);
    }

    /// @notice Approves a pending request: the hat is granted.
    /// @dev Never the caller's own request (see {grantHat}); they may still decline it.
    function approveHatRequest(address account, uint8 hat) external {
        _requireCanManage(_msgSender(), hat);
        _requireOtherPerson(account, hat);
        _clearRequest(account, hat);
        emit HatRequestApproved(account, hat, _msgSender());
        _grant(account, hat);
    }

    /// @notice Declines a pending request.
    function declineHatRequest(address account, uint8 hat) external {
        _requireCanManage(_msgSender(), hat);
        _clearRequest(account, hat);
        emit HatRequestDeclined(account, hat, _msgSender());
    }

    /// @notice Sets the arranger who books and confirms care for `receiver`; zero clears it.
    /// @dev The receiver themself or a coordinator. The arranger must wear the arranger hat.
    /// A coordinator never names themselves: the receiver or another coordinator must.
    function setArranger(address receiver, address arranger) external {
        address sender = _msgSender();
        if (sender != receiver) {
            _requireHat(sender, Hats.COORDINATOR);
            if (arranger == sender) revert MembershipSelfArrangement(receiver, arranger);
        }
        _requireHat(receiver, Hats.CARE_RECEIVER);
        if (arranger != address(0)) _requireHat(arranger, Hats.ARRANGER);
        _arrangers[receiver] = arranger;
        emit ArrangerSet(receiver, arranger, sender);
    }

    // ------------------------------------------------------------------ circles

    /// @notice Creates a circle under `parentId` (zero for the root) with hashes of its aim and domain.
    function createCircle(bytes32 circleId, bytes32 parentId, bytes32 aimHash, bytes32 domainHash)
        external
        onlyHat(Hats.COORDINATOR)
    {
        if (circleId == bytes32(0)) revert MembershipUnknownCircle(circleId);
        if (_circles[circleId].exists) revert MembershipCircleExists(circleId);
        if (parentId != bytes32(0) && !_circles[parentId].exists) revert MembershipUnknownCircle(parentId);
        _circles[circleId] = Circle(parentId, aimHash, domainHash, true);
        emit CircleCreated(circleId, parentId, aimHash, domainHash);
    }

    /// @notice Replaces the aim and domain hashes of a circle.
    function updateCircle(bytes32 circleId, bytes32 aimHash, bytes32 domainHash)
        external
        onlyHat(Hats.COORDINATOR)
    {
        Circle storage circle = _circles[circleId];
        if (!circle.exists) revert MembershipUnknownCircle(circleId);
        circle.aimHash = aimHash;
        circle.domainHash = domainHash;
        emit CircleUpdated(circleId, aimHash, domainHash);
    }

    /// @notice Sets a member's role in a circle: member, rep link, lead link, or none to remove.
    function setCircleRole(bytes32 circleId, address account, uint8 role) external onlyHat(Hats.COORDINATOR) {
        if (!_circles[circleId].exists) revert MembershipUnknownCircle(circleId);
        if (role > CIRCLE_LEAD_LINK) revert MembershipInvalidCircleRole(role);
        if (_memberIds[account] == bytes32(0)) revert MembershipNotMember(account);
        _circleRoles[circleId][account] = role;
        emit CircleRoleSet(circleId, account, role);
    }

    // -------------------------------------------------------------------- views

    /// @notice True if `account` is a registered member.
    function isMember(address account) external view returns (bool) {
        return _memberIds[account] != bytes32(0);
    }

    /// @notice True if `account` may hold coin: a member or a system account.
    function isRegistered(address account) external view returns (bool) {
        return _memberIds[account] != bytes32(0) || _systemAccounts[account];
    }

    /// @notice True if `account` is a system account.
    function isSystemAccount(address account) external view returns (bool) {
        return _systemAccounts[account];
    }

    /// @notice The pseudonymous id of `account`, zero if not a member.
    function memberIdOf(address account) external view returns (bytes32) {
        return _memberIds[account];
    }

    /// @notice The account registered under `memberId`, zero if none.
    function accountOf(bytes32 memberId) external view returns (address) {
        return _accounts[memberId];
    }

    /// @notice True if `account` wears `hat`.
    function hasHat(address account, uint8 hat) external view returns (bool) {
        return _has(account, hat);
    }

    /// @notice Bitmap of the hats `account` wears (bit i = hat i).
    function hatsOf(address account) external view returns (uint256) {
        return _hats[account];
    }

    /// @notice Bitmap of the hats `account` has asked for and not yet been answered on.
    function requestedHatsOf(address account) external view returns (uint256) {
        return _requestedHats[account];
    }

    /// @notice The arranger of `receiver`, zero if none.
    function arrangerOf(address receiver) external view returns (address) {
        return _arrangers[receiver];
    }

    /// @notice A circle's parent, aim hash, domain hash and whether it exists.
    function circleOf(bytes32 circleId)
        external
        view
        returns (bytes32 parentId, bytes32 aimHash, bytes32 domainHash, bool exists)
    {
        Circle storage c = _circles[circleId];
        return (c.parentId, c.aimHash, c.domainHash, c.exists);
    }

    /// @notice The role of `account` in circle `circleId` (0 none, 1 member, 2 rep link, 3 lead link).
    function circleRoleOf(bytes32 circleId, address account) external view returns (uint8) {
        return _circleRoles[circleId][account];
    }

    // ----------------------------------------------------------------- internal

    function _register(address account, bytes32 memberId) internal {
        if (account == address(0)) revert MembershipInvalidAccount(account);
        if (memberId == bytes32(0)) revert MembershipInvalidMemberId(memberId);
        if (_memberIds[account] != bytes32(0) || _systemAccounts[account]) {
            revert MembershipAlreadyRegistered(account);
        }
        if (_accounts[memberId] != address(0)) revert MembershipMemberIdTaken(memberId);
        _memberIds[account] = memberId;
        _accounts[memberId] = account;
        emit MemberRegistered(account, memberId, _msgSender());
    }

    function _grant(address account, uint8 hat) internal {
        _requireValidHat(hat);
        if (_memberIds[account] == bytes32(0)) revert MembershipNotMember(account);
        if (_has(account, hat)) revert MembershipHatAlreadyHeld(account, hat);
        _hats[account] |= uint256(1) << hat;
        emit HatGranted(account, hat, _msgSender());
    }

    function _clearRequest(address account, uint8 hat) internal {
        if (_requestedHats[account] & (uint256(1) << hat) == 0) revert MembershipNoPendingRequest(account, hat);
        _requestedHats[account] &= ~(uint256(1) << hat);
    }

    function _has(address account, uint8 hat) internal view returns (bool) {
        return hat < Hats.COUNT && _hats[account] & (uint256(1) << hat) != 0;
    }

    function _requireHat(address account, uint8 hat) internal view {
        if (!_has(account, hat)) revert MembershipMissingHat(account, hat);
    }

    function _requireValidHat(uint8 hat) internal pure {
        if (hat >= Hats.COUNT) revert MembershipInvalidHat(hat);
    }

    function _requireOtherPerson(address account, uint8 hat) internal view {
        if (account == _msgSender()) revert MembershipSelfGrant(account, hat);
    }

    function _requireCanManage(address caller, uint8 hat) internal view {
        _requireValidHat(hat);
        if (_has(caller, Hats.ADMIN)) return;
        if (Hats.isCareHat(hat) && _has(caller, Hats.COORDINATOR)) return;
        revert MembershipCannotManageHat(caller, hat);
    }
}
