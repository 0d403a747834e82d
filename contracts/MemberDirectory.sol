// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";

import {MemberKind, MemberStatus} from "./Common.sol";
import {IMemberDirectory} from "./interfaces/IMemberDirectory.sol";

/// @title Member directory
/// @notice See {IMemberDirectory}.
abstract contract MemberDirectory is IMemberDirectory, AccessManaged {
    mapping(address account => Member member) private _members;

    /// @inheritdoc IMemberDirectory
    function registerMember(
        address account,
        MemberKind kind,
        string calldata name,
        string calldata metadataURI
    ) external restricted {
        if (account == address(0) || kind == MemberKind.None || bytes(name).length == 0) {
            revert InvalidMember(account);
        }
        Member storage member = _members[account];
        if (member.kind != MemberKind.None) revert MemberAlreadyRegistered(account);
        member.kind = kind;
        member.status = MemberStatus.Active;
        member.registeredAt = uint40(block.timestamp);
        member.name = name;
        member.metadataURI = metadataURI;
        emit MemberRegistered(account, kind, name, metadataURI, _msgSender());
    }

    /// @inheritdoc IMemberDirectory
    function updateMember(address account, string calldata name, string calldata metadataURI) external restricted {
        Member storage member = _existingMember(account);
        if (bytes(name).length == 0) revert InvalidMember(account);
        member.name = name;
        member.metadataURI = metadataURI;
        emit MemberUpdated(account, name, metadataURI, _msgSender());
    }

    /// @inheritdoc IMemberDirectory
    function suspendMember(address account, uint16 reason) external restricted {
        Member storage member = _existingMember(account);
        if (member.status != MemberStatus.Active) revert MemberStatusUnchanged(account, member.status);
        member.status = MemberStatus.Suspended;
        emit MemberSuspended(account, reason, _msgSender());
    }

    /// @inheritdoc IMemberDirectory
    function reinstateMember(address account) external restricted {
        Member storage member = _existingMember(account);
        if (member.status != MemberStatus.Suspended) revert MemberStatusUnchanged(account, member.status);
        member.status = MemberStatus.Active;
        emit MemberReinstated(account, _msgSender());
    }

    /// @inheritdoc IMemberDirectory
    function getMember(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IMemberDirectory
    function isActiveMember(address account, MemberKind kind) public view returns (bool) {
        Member storage member = _members[account];
        return member.kind == kind && member.status == MemberStatus.Active;
    }

    /// @dev Reverts unless `account` is an active member of `kind`. One storage read: kind and
    /// status share a slot.
    function _requireActiveMember(address account, MemberKind kind) internal view {
        if (!isActiveMember(account, kind)) revert MemberNotPermitted(account, kind);
    }

    function _existingMember(address account) private view returns (Member storage member) {
        member = _members[account];
        if (member.kind == MemberKind.None) revert MemberNotRegistered(account);
    }
}
