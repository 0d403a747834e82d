// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessCheck, AssetKey, GrantKey, GrantScope, GrantStatus, MemberKind} from "./Common.sol";
import {IAccessLog} from "./interfaces/IAccessLog.sol";
import {ConsentManager} from "./ConsentManager.sol";

/// @title Access log
/// @notice See {IAccessLog}.
/// @dev A read costs four storage reads (consumer's and issuer's member slots, asset slot, grant
/// slot) and one write (the grant's read count). The access itself lives only in its event; its id
/// is derived from the grant, version and read number, so feedback can be checked against the grant
/// without storing the access.
abstract contract AccessLog is IAccessLog, ConsentManager {
    mapping(bytes32 accessId => uint16 outcome) private _outcomes;

    /// @inheritdoc IAccessLog
    function recordAccess(
        AssetKey calldata asset,
        GrantScope scope,
        uint16 purpose,
        uint64 fields
    ) external returns (bytes32 accessId) {
        address consumer = _msgSender();
        (AccessCheck check, bytes32 grantId, bytes32 assetId, Grant storage stored) = _evaluate(
            asset,
            consumer,
            scope,
            purpose,
            fields
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
            asset.subjectId,
            consumer,
            accessId,
            assetId,
            purpose,
            fields,
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
        AssetKey calldata asset,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        uint64 fields
    ) external view returns (AccessCheck check) {
        (check, , , ) = _evaluate(asset, consumer, scope, purpose, fields);
    }

    /// @inheritdoc IAccessLog
    function outcomeOf(bytes32 accessId) external view returns (uint16) {
        return _outcomes[accessId];
    }

    /// @dev The id of a read: the grant, its version and the read's number in that version.
    function _accessId(bytes32 grantId, uint32 version, uint32 readNumber) private pure returns (bytes32) {
        return keccak256(abi.encode(grantId, version, readNumber));
    }

    /// @dev Every condition of a read, in a fixed order: consumer, asset, issuer, grant, fields. The
    /// asset id is derived from its key, so the asset is the holder's and the issuer's by
    /// construction; for a data-type grant the target is derived from the same key, so the grant
    /// found always names the asset's type and issuer.
    function _evaluate(
        AssetKey calldata asset,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        uint64 fields
    ) private view returns (AccessCheck, bytes32 grantId, bytes32 assetId, Grant storage stored) {
        assetId = assetIdOf(asset);
        // A data-type grant's target is `issuer << 32 | dataType` (see `IConsentManager`).
        bytes32 target =
            scope == GrantScope.Asset ? assetId : bytes32((uint256(uint160(asset.issuer)) << 32) | asset.dataType);
        grantId = _grantId(asset.subjectId, consumer, scope, target, purpose);
        stored = _grant(grantId);
        AccessCheck check;
        if (!isActiveMember(consumer, MemberKind.Consumer)) check = AccessCheck.ConsumerNotActive;
        else if (!_isValid(_asset(assetId))) check = AccessCheck.AssetNotValid;
        else if (!isActiveMember(asset.issuer, MemberKind.Department)) check = AccessCheck.IssuerSuspended;
        else check = _grantCheck(stored, fields);
        return (check, grantId, assetId, stored);
    }

    /// @dev The grant's own conditions: active, unexpired, reads left, and `fields` within its
    /// fields (0 = the whole record, which only a whole-record grant covers).
    function _grantCheck(Grant storage stored, uint64 fields) private view returns (AccessCheck) {
        GrantStatus status = stored.status;
        if (status == GrantStatus.None) return AccessCheck.NoGrant;
        if (status == GrantStatus.Revoked) return AccessCheck.GrantRevoked;
        if (block.timestamp > stored.expiresAt) return AccessCheck.GrantExpired;
        if (stored.reads >= stored.maxReads) return AccessCheck.GrantExhausted;
        uint64 granted = stored.fields;
        if (granted != 0 && (fields == 0 || fields & ~granted != 0)) return AccessCheck.FieldsNotGranted;
        return AccessCheck.Allowed;
    }
}
