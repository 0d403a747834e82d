// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MemberKind, MemberStatus} from "../Common.sol";

/// @title Member directory
/// @notice The organisations on the network: issuing departments, consumers, regulators, operators
/// and identity authorities. Each has a kind, a name, a metadata reference and a status.
/// Registration and updates are governed; suspension stops every act of the member at once
/// (issuing, requesting, reading) and deletes nothing. A member's encryption key is not here: the
/// member sets and rotates it itself in the key directory (`IKeyDirectory.setMemberKey`).
interface IMemberDirectory {
    /// @notice A member as stored.
    struct Member {
        MemberKind kind; // what the organisation is
        MemberStatus status; // active or suspended
        uint40 registeredAt; // unix seconds
        string name; // display name, e.g. "Jinan Public Security Bureau"
        string metadataURI; // where the member's public profile lives
    }

    /// @notice `account` already belongs to a member.
    error MemberAlreadyRegistered(address account);
    /// @notice `account` is not a member.
    error MemberNotRegistered(address account);
    /// @notice `account` is a member but not active, or not of the kind the act needs.
    error MemberNotPermitted(address account, MemberKind requiredKind);
    /// @notice The member is in the wrong status for this change.
    error MemberStatusUnchanged(address account, MemberStatus status);
    /// @notice A member's fields are malformed (zero address, kind None, empty name).
    error InvalidMember(address account);

    /// @notice A member joined the network.
    /// @param account the member's address
    /// @param kind what the member is
    /// @param name display name
    /// @param metadataURI public profile reference
    /// @param by the governance caller
    event MemberRegistered(
        address indexed account,
        MemberKind indexed kind,
        string name,
        string metadataURI,
        address by
    );
    /// @notice A member's name or metadata changed.
    /// @param account the member
    /// @param name new display name
    /// @param metadataURI new profile reference
    /// @param by the governance caller
    event MemberUpdated(address indexed account, string name, string metadataURI, address by);
    /// @notice A regulator suspended a member.
    /// @param account the member
    /// @param reason reason code
    /// @param by the regulator
    event MemberSuspended(address indexed account, uint16 reason, address indexed by);
    /// @notice A regulator reinstated a suspended member.
    /// @param account the member
    /// @param by the regulator
    event MemberReinstated(address indexed account, address indexed by);

    /// @notice Registers an organisation. Governed (MEMBER_ADMIN).
    function registerMember(
        address account,
        MemberKind kind,
        string calldata name,
        string calldata metadataURI
    ) external;

    /// @notice Changes a member's name and metadata. Governed (MEMBER_ADMIN).
    function updateMember(address account, string calldata name, string calldata metadataURI) external;

    /// @notice Suspends a member. Governed (REGULATOR), immediate.
    function suspendMember(address account, uint16 reason) external;

    /// @notice Reinstates a suspended member. Governed (REGULATOR).
    function reinstateMember(address account) external;

    /// @notice The member stored for `account` (kind None if there is none).
    function getMember(address account) external view returns (Member memory);

    /// @notice Whether `account` is an active member of `kind`.
    function isActiveMember(address account, MemberKind kind) external view returns (bool);
}
