// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessCheck, AssetKey, GrantKey, GrantScope} from "../Common.sol";

/// @title Access log
/// @notice Every use of a holder's data is recorded on chain in the same transaction that checks it
/// against the consent: the grant must be live, unexpired, unrevoked and not exhausted, for this
/// consumer and this asset (or its type), covering the fields read, the asset valid, its issuer not
/// suspended, and the consumer an active member. A read names the asset by its key (what its id is
/// the hash of), so the key itself proves whose asset it is and who issued it. A read consumes one
/// of the grant's reads. The consumer then reports the business outcome once. Regulators and
/// holders rebuild the whole trail from the events.
interface IAccessLog {
    /// @notice A read was refused; `reason` says which check failed.
    error AccessDenied(bytes32 grantId, bytes32 assetId, AccessCheck reason);
    /// @notice The access does not exist in the grant's current version, or `account` did not make it.
    error UnknownAccess(bytes32 grantId, uint32 version, uint32 readNumber);
    /// @notice An outcome was already reported for this access.
    error OutcomeAlreadyRecorded(bytes32 accessId);
    /// @notice Outcome code 0 is reserved.
    error InvalidOutcome();

    /// @notice A consumer read a holder's asset under a grant.
    /// @param grantId the grant used
    /// @param subjectId the holder whose data was read
    /// @param consumer the member that read it
    /// @param accessId `keccak256(abi.encode(grantId, version, readNumber))`
    /// @param assetId the asset read
    /// @param purpose the purpose of the grant
    /// @param fields the fields read (bit i = i-th schema field; 0 = whole record): what the payload
    /// gateway releases for this access
    /// @param readNumber this read's number in the grant version (1-based)
    /// @param maxReads reads the grant version allows
    /// @param version the grant version read under (see `GrantIssued`)
    event AccessRecorded(
        bytes32 indexed grantId,
        bytes32 indexed subjectId,
        address indexed consumer,
        bytes32 accessId,
        bytes32 assetId,
        uint16 purpose,
        uint64 fields,
        uint32 readNumber,
        uint32 maxReads,
        uint32 version
    );
    /// @notice The consumer reported what came of an access (e.g. loan granted).
    /// @param accessId the access
    /// @param grantId its grant
    /// @param consumer the consumer
    /// @param outcome outcome code
    /// @param outcomeReference commitment to the consumer's business record
    event AccessOutcomeRecorded(
        bytes32 indexed accessId,
        bytes32 indexed grantId,
        address indexed consumer,
        uint16 outcome,
        bytes32 outcomeReference
    );

    /// @notice Records a read of the asset `asset` names, of its holder's data, under the caller's
    /// grant of `scope` for `purpose`. For a data-type grant, the asset is one the grant covers (see
    /// `IConsentManager`). Caller: the consumer.
    /// @param asset the key of the asset read (`assetIdOf(asset)` is its id)
    /// @param fields the fields read, within the grant's (bit i = i-th schema field; 0 = whole record)
    /// @return accessId the access id, for `recordOutcome`
    function recordAccess(
        AssetKey calldata asset,
        GrantScope scope,
        uint16 purpose,
        uint64 fields
    ) external returns (bytes32 accessId);

    /// @notice Reports the outcome of an access of the grant's current version, once.
    /// Caller: the consumer (`key.consumer`).
    function recordOutcome(
        GrantKey calldata key,
        uint32 version,
        uint32 readNumber,
        uint16 outcome,
        bytes32 outcomeReference
    ) external;

    /// @notice Whether `consumer` could read `fields` of the asset `asset` names now under its grant,
    /// and if not why (the issuer's suspension included).
    function checkAccess(
        AssetKey calldata asset,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        uint64 fields
    ) external view returns (AccessCheck);

    /// @notice The outcome reported for an access (0 if none).
    function outcomeOf(bytes32 accessId) external view returns (uint16);
}
