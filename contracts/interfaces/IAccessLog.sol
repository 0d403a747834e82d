// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessCheck, GrantKey, GrantScope} from "../Common.sol";

/// @title Access log
/// @notice Every use of a holder's data is recorded on chain in the same transaction that checks it
/// against the consent: the grant must be live, unexpired, unrevoked and not exhausted, for this
/// consumer and this asset (or its type), the asset valid and the holder's, and the consumer an
/// active member. A read consumes one of the grant's reads. The consumer then reports the business
/// outcome once. Regulators and holders rebuild the whole trail from the events.
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

    /// @notice Records a read of `assetId` under the caller's grant from `subjectId` for `purpose`.
    /// For a data-type grant, `assetId` is the holder's current asset of that type.
    /// Caller: the consumer.
    /// @return accessId the access id, for `recordOutcome`
    function recordAccess(
        bytes32 subjectId,
        GrantScope scope,
        uint16 purpose,
        bytes32 assetId
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

    /// @notice Whether `consumer` could read `assetId` now under its grant, and if not why.
    function checkAccess(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        uint16 purpose,
        bytes32 assetId
    ) external view returns (AccessCheck);

    /// @notice The outcome reported for an access (0 if none).
    function outcomeOf(bytes32 accessId) external view returns (uint16);
}
