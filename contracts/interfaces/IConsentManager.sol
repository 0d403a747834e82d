// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    AccessRequest,
    AccessRequestStatus,
    Authorization,
    GrantKey,
    GrantScope,
    GrantStatus,
    GrantTerms
} from "../Common.sol";

/// @title Consent
/// @notice Holders decide who uses their data. A consumer (bank, school...) asks a holder for
/// consent with an access request; the holder approves it (which issues the grants), rejects it,
/// or lets it expire; the consumer can cancel it. A holder can also grant directly. A grant names
/// the holder, the consumer, one asset or one data type from one issuer, a purpose, the fields it
/// covers, an expiry (at most `MAX_GRANT_DURATION` ahead) and a maximum number of reads (1 = burn
/// after reading), and the holder can revoke it at any time.
///
/// What a data-type grant covers: its target is `bytes32(uint256(uint160(issuer)) << 32 |
/// dataType)`, one department and one type, both shown in what the holder signs. It covers that
/// department's current asset of the type for the holder: an asset of that type it issued to the
/// holder that is valid at the read (neither revoked, superseded nor past valid-until) while the
/// department is not suspended. A department keeps one asset per record and replaces it with
/// `supersedeAsset`, which leaves exactly one valid version, the newest: the grant follows it
/// through updates made after the grant, and never reaches an older version, another
/// department's asset of the same type, or another type. (A department that keeps several
/// separate records of one type for a holder has several current assets; each read names the one
/// it reads, and counts against the grant's reads.) An asset grant covers its one asset only.
///
/// Field-level consent: a request and a grant carry a `uint64 fields` mask over the data type's
/// schema field list (bit i = the i-th field as the catalog's schema document lists them, at most
/// 64 fields); 0 means the whole record. A read names the fields it takes, which must lie within
/// the grant's; the payload gateway releases only those fields, each with its salt and Merkle proof
/// against the asset's commitment. A request or grant naming targets of several types applies one
/// mask to each type's own field list.
///
/// Every holder act here, and the holder's return request of the asset registry, can be done by
/// the controller's transaction or by its EIP-712 signature submitted by anyone (a phone signs, a
/// relayer pays). What is signed is what a wallet shows: an approval or a rejection carries the
/// request's whole content beside its id, and the contract recomputes the id from that content.
/// Signatures carry a nonce and a deadline, are bound to this chain and this deployment, and are
/// checked with EIP-1271 when the controller is a contract wallet.
///
/// Nonces are unordered, as in Permit2: any number of signatures can be outstanding and are
/// relayed in any order, each once. A nonce is `epoch << 208 | index`: the epoch is the subject's
/// `nonce` field (see `ISubjectRegistry.Subject`), moved on by every hand-over, completed recovery
/// and `invalidateNonce`, which kills every outstanding signature at once; the index is any unused
/// one (`isNonceUsed`, `nonceBitmap`). The holder cancels one nonce, or a word of 256, with
/// `cancelNonces`.
interface IConsentManager {
    /// @notice A grant as stored (one storage slot). Its id is `keccak256(abi.encode(GrantKey))`:
    /// one grant per holder, consumer, scope, target and purpose; granting again renews it as a new
    /// version with its own expiry and read allowance.
    struct Grant {
        GrantStatus status; // active or revoked
        uint40 grantedAt; // unix seconds of the current version
        uint40 expiresAt; // unix seconds after which reads are refused
        uint32 maxReads; // reads allowed in this version
        uint32 reads; // reads used in this version
        uint32 version; // 1 for the first grant, +1 for each renewal
        uint64 fields; // fields covered: bit i = i-th schema field; 0 = whole record
    }

    /// @notice A request or grant names no targets or no consumers, or more than the limit.
    error InvalidGrantCount(uint256 count);
    /// @notice Expiry not in the future, zero or over-long duration, or zero reads.
    error InvalidGrantTerms(uint40 expiresAt, uint32 maxReads);
    /// @notice A data-type target has bits beyond `issuer << 32 | dataType`.
    error InvalidDataTypeTarget(bytes32 target);
    /// @notice An asset target is not a valid asset of the holder.
    error InvalidAssetTarget(bytes32 subjectId, bytes32 assetId);
    /// @notice The request is not open.
    error RequestNotOpen(bytes32 requestId, AccessRequestStatus status);
    /// @notice The request's expiry has passed.
    error RequestExpired(bytes32 requestId, uint40 expiresAt);
    /// @notice `account` is not the consumer that made the request.
    error NotRequestConsumer(bytes32 requestId, address account);
    /// @notice The grant is not active.
    error GrantNotActive(bytes32 grantId, GrantStatus status);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice The signature is not the current controller's for this message: another signer, or
    /// other content than what is submitted (an approval of another request, say).
    error InvalidSignature(bytes32 subjectId, address controller);
    /// @notice The nonce was used by a relayed signature, or cancelled.
    error NonceUsed(bytes32 subjectId, uint256 nonce);
    /// @notice The nonce belongs to another signature epoch than the subject's current one: it was
    /// signed before a hand-over, a recovery or an `invalidateNonce`.
    error NonceEpochMismatch(bytes32 subjectId, uint256 nonce, uint48 epoch);
    /// @notice A signed revocation names another grant version than the current one (the holder
    /// granted again since signing).
    error GrantVersionMismatch(bytes32 grantId, uint32 signedVersion, uint32 currentVersion);

    /// @notice A consumer asked a holder for consent. The event carries the whole request, so a
    /// safe-box app rebuilds it from the logs alone.
    /// @param requestId `keccak256(abi.encode(request))`
    /// @param subjectId the holder asked
    /// @param consumer the member asking
    /// @param request the request
    event AccessRequested(
        bytes32 indexed requestId,
        bytes32 indexed subjectId,
        address indexed consumer,
        AccessRequest request
    );
    /// @notice The holder approved a request; a `GrantIssued` per target follows.
    /// @param requestId request id
    /// @param subjectId the holder
    /// @param by the controller, or the relayer of its signature
    event AccessRequestApproved(bytes32 indexed requestId, bytes32 indexed subjectId, address by);
    /// @notice The holder rejected a request.
    /// @param requestId request id
    /// @param subjectId the holder
    /// @param reason reason code
    /// @param by the controller, or the relayer of its signature
    event AccessRequestRejected(bytes32 indexed requestId, bytes32 indexed subjectId, uint16 reason, address by);
    /// @notice The consumer withdrew a request.
    /// @param requestId request id
    /// @param consumer the consumer
    event AccessRequestCancelled(bytes32 indexed requestId, address indexed consumer);
    /// @notice A grant was issued or renewed.
    /// @param grantId `keccak256(abi.encode(GrantKey))`
    /// @param subjectId the holder
    /// @param consumer the member allowed to read
    /// @param scope asset or data type
    /// @param target asset id, or `issuer << 32 | dataType` as bytes32
    /// @param fields fields covered (bit i = i-th schema field; 0 = whole record)
    /// @param purpose purpose code
    /// @param expiresAt unix seconds
    /// @param maxReads reads allowed
    /// @param version 1, then +1 per renewal
    /// @param requestId the approved request, or 0 for a direct grant
    event GrantIssued(
        bytes32 indexed grantId,
        bytes32 indexed subjectId,
        address indexed consumer,
        GrantScope scope,
        bytes32 target,
        uint64 fields,
        uint16 purpose,
        uint40 expiresAt,
        uint32 maxReads,
        uint32 version,
        bytes32 requestId
    );
    /// @notice The holder cancelled nonces, so signatures carrying them can never be used.
    /// @param subjectId the holder
    /// @param wordPos the nonce word (`nonce >> 8`, epoch included)
    /// @param mask the bits cancelled in that word (bit i = nonce `wordPos << 8 | i`)
    event NoncesCancelled(bytes32 indexed subjectId, uint256 wordPos, uint256 mask);
    /// @notice The holder revoked a grant.
    /// @param grantId grant id
    /// @param subjectId the holder
    /// @param consumer the consumer that loses access
    /// @param version the version revoked
    /// @param by the controller, or the relayer of its signature
    event GrantRevoked(
        bytes32 indexed grantId,
        bytes32 indexed subjectId,
        address indexed consumer,
        uint32 version,
        address by
    );

    /// @notice Asks a holder for consent. Caller: an active consumer member.
    /// @param fields the fields asked for (bit i = i-th schema field; 0 = whole record)
    /// @return requestId the request id
    /// @return request the stored request, with its nonce, as the holder will approve it
    function requestAccess(
        bytes32 subjectId,
        GrantScope scope,
        bytes32[] calldata targets,
        uint64 fields,
        uint16 purpose,
        uint40 grantDuration,
        uint32 maxReads,
        uint40 expiresAt
    ) external returns (bytes32 requestId, AccessRequest memory request);

    /// @notice Approves a request, issuing one grant per target. Caller: the holder's controller.
    /// @return grantIds the grants issued, in target order
    function approveRequest(AccessRequest calldata request) external returns (bytes32[] memory grantIds);

    /// @notice Approves a request with the controller's signature. Anyone may submit.
    function approveRequestBySig(
        AccessRequest calldata request,
        Authorization calldata authorization
    ) external returns (bytes32[] memory grantIds);

    /// @notice Rejects a request. Caller: the holder's controller.
    function rejectRequest(AccessRequest calldata request, uint16 reason) external;

    /// @notice Rejects a request with the controller's signature. Anyone may submit.
    function rejectRequestBySig(
        AccessRequest calldata request,
        uint16 reason,
        Authorization calldata authorization
    ) external;

    /// @notice Withdraws an open request. Caller: the consumer that made it.
    function cancelRequest(AccessRequest calldata request) external;

    /// @notice Grants every consumer access to every target. Caller: the holder's controller.
    /// @return grantIds the grants, consumer-major then target order
    function grant(GrantTerms calldata terms) external returns (bytes32[] memory grantIds);

    /// @notice Grants with the controller's signature. Anyone may submit.
    function grantBySig(
        GrantTerms calldata terms,
        Authorization calldata authorization
    ) external returns (bytes32[] memory grantIds);

    /// @notice Revokes a grant. Caller: the holder's controller.
    function revoke(GrantKey calldata key) external;

    /// @notice Revokes a grant with the controller's signature. Anyone may submit.
    /// @param version the version the holder revokes; a later renewal is not revoked by it. 0
    /// revokes whichever version is current.
    function revokeBySig(GrantKey calldata key, uint32 version, Authorization calldata authorization) external;

    /// @notice Cancels nonces of outstanding signatures: the bits of `mask` in nonce word `wordPos`
    /// (`nonce >> 8`). One bit cancels one signature; a full mask, 256. Caller: the controller.
    function cancelNonces(bytes32 subjectId, uint256 wordPos, uint256 mask) external;

    /// @notice The used or cancelled nonces of word `wordPos` (`nonce >> 8`): bit i is nonce
    /// `wordPos << 8 | i`. Reverts for an unregistered subject.
    function nonceBitmap(bytes32 subjectId, uint256 wordPos) external view returns (uint256);

    /// @notice Whether a signature carrying `nonce` can no longer be used: its nonce is used or
    /// cancelled, or of another epoch than the current one. Reverts for an unregistered subject.
    function isNonceUsed(bytes32 subjectId, uint256 nonce) external view returns (bool);

    /// @notice Asks a department to return data of a type (see `IAssetRegistry.requestReturn`) with
    /// the controller's signature, so a holder whose phone never pays gas can ask. Anyone may submit.
    /// @return requestId the return request id
    function requestReturnBySig(
        bytes32 subjectId,
        uint32 dataType,
        address department,
        Authorization calldata authorization
    ) external returns (bytes32 requestId);

    /// @notice The stored grant (status None if never granted).
    function getGrant(bytes32 grantId) external view returns (Grant memory);

    /// @notice The status of a request (None if never made).
    function getRequestStatus(bytes32 requestId) external view returns (AccessRequestStatus);

    /// @notice The id of the grant `key` names.
    function grantIdOf(GrantKey calldata key) external pure returns (bytes32);

    /// @notice The id of a request.
    function requestIdOf(AccessRequest calldata request) external pure returns (bytes32);

    /// @notice The EIP-712 domain separator of this deployment.
    function domainSeparator() external view returns (bytes32);
}
