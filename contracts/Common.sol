// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @dev Shared types of the datasafe suite. Every on-chain identifier of a person or company is a
/// pseudonymous `subjectId` (a salted commitment computed off chain by an identity authority);
/// no field here ever holds personal data in clear.

/// @notice What an organisation on the network is.
enum MemberKind {
    None,
    Department, // a government department that issues (returns) data assets
    Consumer, // a data user: bank, school, employer...
    Regulator, // reads the trail; holds the REGULATOR governance role to suspend members
    Operator, // runs nodes and onboarding
    IdentityAuthority // registers subjects and recovers lost keys
}

/// @notice Whether a member may act. Suspension stops a member at once and deletes nothing.
enum MemberStatus {
    None,
    Active,
    Suspended
}

/// @notice Lifecycle of a data type of the catalog. Deprecation is final.
enum DataTypeStatus {
    None,
    Active,
    Deprecated
}

/// @notice Lifecycle of a data asset.
enum AssetStatus {
    None,
    Valid,
    Revoked,
    Superseded
}

/// @notice Lifecycle of a holder's request to a department to return data of a type.
enum ReturnRequestStatus {
    None,
    Open,
    Fulfilled,
    Declined,
    Cancelled
}

/// @notice Lifecycle of a consumer's request to a holder for consent.
enum AccessRequestStatus {
    None,
    Open,
    Approved,
    Rejected,
    Cancelled
}

/// @notice What a grant covers: one named asset, or the holder's current asset of a data type from
/// one named issuer (see `IConsentManager` for "current").
enum GrantScope {
    Asset,
    DataType
}

/// @notice Lifecycle of a grant.
enum GrantStatus {
    None,
    Active,
    Revoked
}

/// @notice Why a read under a grant is or is not possible now (see `IAccessLog.checkAccess`).
enum AccessCheck {
    Allowed,
    NoGrant, // never granted for this holder, consumer, scope, target and purpose
    GrantRevoked,
    GrantExpired,
    GrantExhausted, // every allowed read used ("burn after reading" after one)
    ConsumerNotActive, // not a member, not a consumer, or suspended
    AssetNotValid, // unknown, revoked, superseded or past valid-until
    IssuerSuspended, // the asset's issuing department is suspended: its data does not flow meanwhile
    FieldsNotGranted // the read names fields outside the grant's field subset
}

/// @notice A new data asset as a department submits it.
struct NewAsset {
    bytes32 subjectId; // pseudonymous id of the holder
    uint32 dataType; // catalog type id
    bytes32 contentCommitment; // salted commitment (or Merkle root of salted field commitments) to the data
    bytes32 payloadPointer; // locator of the encrypted payload off chain (e.g. its content digest)
    uint40 validUntil; // unix seconds; 0 = no expiry
}

/// @notice What a data asset id is the hash of: `assetId = keccak256(abi.encode(key))`.
/// Anyone holding a record and the issuer's address can recompute the id and verify it on chain.
struct AssetKey {
    address issuer; // the issuing department
    bytes32 subjectId; // the holder
    uint32 dataType; // catalog type id
    bytes32 contentCommitment; // salted commitment to the data
}

/// @notice What a grant id is the hash of: `grantId = keccak256(abi.encode(key))`. There is at most
/// one grant per key; granting again renews it as a new version.
struct GrantKey {
    bytes32 subjectId; // the holder who consents
    address consumer; // the member allowed to read
    GrantScope scope; // one asset, or a data type
    bytes32 target; // the asset id, or `issuer << 32 | dataType` as bytes32 (one department's type)
    uint16 purpose; // purpose code the consumer declares (loan, enrolment...)
}

/// @notice A consumer's request for consent, as submitted and as a signed approval shows it.
/// `requestId = keccak256(abi.encode(subjectId, consumer, scope, keccak256(abi.encodePacked(targets)),
/// fields, purpose, grantDuration, maxReads, expiresAt, nonce))`: the fields in order, the targets
/// hashed as EIP-712 hashes an array, so the id is recomputed from what the holder signs.
struct AccessRequest {
    bytes32 subjectId; // the holder asked
    address consumer; // the member asking
    GrantScope scope; // what `targets` name
    bytes32[] targets; // asset ids, or `issuer << 32 | dataType` for data types (see GrantKey)
    uint64 fields; // field subset asked for: bit i = i-th field of the type's schema; 0 = whole record
    uint16 purpose; // purpose code
    uint40 grantDuration; // seconds the grants last from approval
    uint32 maxReads; // reads allowed per grant; 1 = burn after reading
    uint40 expiresAt; // after this the request can no longer be approved
    uint64 nonce; // makes identical requests distinct; assigned by the contract
}

/// @notice Terms of a grant given directly (by transaction or signature).
struct GrantTerms {
    bytes32 subjectId; // the holder who consents
    address[] consumers; // each consumer receives a grant for every target
    GrantScope scope; // what `targets` name
    bytes32[] targets; // asset ids, or `issuer << 32 | dataType` for data types (see GrantKey)
    uint64 fields; // field subset granted: bit i = i-th field of the type's schema; 0 = whole record
    uint16 purpose; // purpose code
    uint40 expiresAt; // unix seconds after which the grants stop working
    uint32 maxReads; // reads allowed per grant; 1 = burn after reading
}

/// @notice A controller's EIP-712 signature of a holder act, submitted by anyone.
struct Authorization {
    uint256 nonce; // epoch << 208 | index: the subject's current epoch (`getSubject(id).nonce`), any unused index
    uint256 deadline; // unix seconds after which the signature is refused
    bytes signature; // 65-byte ECDSA signature, or whatever the controller's EIP-1271 wallet accepts
}

/// @notice Governance roles of the suite's AccessManager.
library Roles {
    /// @dev AccessManager's own admin role (id 0): configures roles and targets.
    uint64 internal constant ADMIN = 0;
    /// @dev Network operator: suite parameters and governance revocation of assets.
    uint64 internal constant OPERATOR = 1;
    /// @dev Registers and updates members.
    uint64 internal constant MEMBER_ADMIN = 2;
    /// @dev Defines data types and authorises issuers.
    uint64 internal constant CATALOG_ADMIN = 3;
    /// @dev Suspends and reinstates members.
    uint64 internal constant REGULATOR = 4;
}
