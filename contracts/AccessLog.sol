// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessCheck, GrantKey, GrantScope, GrantStatus, MemberKind} from "./Common.sol";
import {IAccessLog} from "./interfaces/IAccessLog.sol";
import {ConsentManager} from "./ConsentManager.sol";

/// @title Access log
/// @notice See {IAccessLog}.
/// @dev A read costs three storage reads (consumer's member slot, asset slot, grant slot) and one
/// write (the grant's read count). The access itself lives only in its event; its id is derived
/// from the grant, version and read number, so feedback can be checked against the grant without
/// storing the access.
abstract contract AccessLog is IAccessLog, ConsentManager {
    mapping(bytes32 accessId => uint16 outcome) private _outcomes;

    /// @inheritdoc IAccessLog
    function recordAccess(
        bytes32 subjectId,
        GrantScope scope,
        uint16 purpose,
        bytes32 assetId
    ) external returns (bytes32 accessId) {
        address consumer = _msgSender();
        (AccessCheck check, bytes32 grantId, Grant storage stored) = _evaluate(
            subjectId,
            consumer,
            scope,
            purpose,
            assetId
        );
        if (check != AccessCheck.Allowed) revert AccessDenied(grantId, assetId, check);
        // Cannot overflow: `_evaluate` allowed the read, so reads < maxReads <= type(uint32).max.
        uint32 readNumber;
        unchecked {
            readNumber = stored.reads + 1;
        }
        stored.reads = readNumber;
        uint32 version = stored.version;
        accessId = _accessId(grantId, version, readNumber);
        emit AccessRecorded(
            grantId,
            subjectId,
            consumer,
            accessId,
            assetId,
            purpose,
            readNumber,
            stored.maxReads,
            version
        );
    }

    /// @inheritdoc IAccessLog
    function recordOutcome(
        GrantKey calldata key,
        uint32 version,
        uint32 readNumber,
        uint16 outcome,
        bytes32 outcomeReference
    ) external {
        address consumer = _msgSender();
        _requireActiveMember(consumer, MemberKind.Consumer);
        bytes32 grantId = grantIdOf(key);
        Grant storage stored = _grant(grantId);
        if (key.consumer != consumer || stored.version != version || readNumber == 0 || readNumber > stored.reads) {
            revert UnknownAccess(grantId, version, readNumber);
        }
        if (outcome == 0) revert InvalidOutcome();
        bytes32 accessId = _accessId(grantId, version, readNumber);
        if (_outcomes[accessId] != 0) revert OutcomeAlreadyRecorded(accessId);
        _outcomes[accessId] = outcome;
        emit AccessOutcomeRecorded(accessId, grantId, consumer, outcome, outcomeReference);
    }

    /// @inheritdoc IAccessLog
    function checkAccess(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        bytes32 assetId
    ) external view returns (AccessCheck check) {
        (check, , ) = _evaluate(subjectId, consumer, scope, purpose, assetId);
    }

    /// @inheritdoc IAccessLog
    function outcomeOf(bytes32 accessId) external view returns (uint16) {
        return _outcomes[accessId];
    }

    /// @dev The id of a read: the grant, its version and the read's number in that version.
    function _accessId(bytes32 grantId, uint32 version, uint32 readNumber) private pure returns (bytes32) {
        return keccak256(abi.encode(grantId, version, readNumber));
    }

    /// @dev Every condition of a read, in a fixed order: consumer, asset, grant. For a data-type
    /// grant the target is the asset's own type, so the grant found always matches the asset.
    function _evaluate(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        bytes32 assetId
    ) private view returns (AccessCheck, bytes32 grantId, Grant storage stored) {
        Asset storage asset = _asset(assetId);
        bytes32 target = scope == GrantScope.Asset ? assetId : bytes32(uint256(asset.dataType));
        grantId = _grantId(subjectId, consumer, scope, target, purpose);
        stored = _grant(grantId);
        if (!isActiveMember(consumer, MemberKind.Consumer)) return (AccessCheck.ConsumerNotActive, grantId, stored);
        if (!_isValid(asset)) return (AccessCheck.AssetNotValid, grantId, stored);
        if (asset.subjectTag != subjectTagOf(subjectId)) return (AccessCheck.AssetNotOwned, grantId, stored);
        GrantStatus status = stored.status;
        if (status == GrantStatus.None) return (AccessCheck.NoGrant, grantId, stored);
        if (status == GrantStatus.Revoked) return (AccessCheck.GrantRevoked, grantId, stored);
        if (block.timestamp > stored.expiresAt) return (AccessCheck.GrantExpired, grantId, stored);
        if (stored.reads >= stored.maxReads) return (AccessCheck.GrantExhausted, grantId, stored);
        return (AccessCheck.Allowed, grantId, stored);
    }
}
