// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetKey, AssetStatus, NewAsset, ReturnRequestStatus} from "../Common.sol";
import {IDataCatalog} from "./IDataCatalog.sol";

/// @title Data-asset registry
/// @notice Departments return data to its holders as data assets: a commitment to the data, its
/// type, its issuer, a pointer to the encrypted payload and a validity window. The data itself
/// never touches the chain. An asset id is the hash of its `AssetKey` (issuer, holder, type,
/// salted content commitment), so anyone holding a record can recompute the id and verify it with
/// `isValid`, and the same asset can never be issued twice. Assets are returned proactively or on
/// the holder's request, and can be revoked or superseded by a newer version.
interface IAssetRegistry {
    /// @notice An asset as stored (one storage slot).
    struct Asset {
        AssetStatus status; // valid, revoked or superseded
        uint32 dataType; // catalog type id
        uint40 issuedAt; // unix seconds
        uint40 validUntil; // unix seconds; 0 = no expiry
        uint136 subjectTag; // `subjectTagOf(subjectId)`: binds the asset to its holder
    }

    /// @notice A holder's request to a department for data of a type.
    struct ReturnRequest {
        bytes32 subjectId; // the holder
        address department; // the department asked
        uint32 dataType; // the type asked for
        ReturnRequestStatus status; // open, fulfilled, declined or cancelled
        uint40 requestedAt; // unix seconds
    }

    /// @notice `issuer` is not authorised for `dataType` in the catalog.
    error IssuerNotAuthorised(uint32 dataType, address issuer);
    /// @notice `dataType` is not defined in the catalog.
    error DataTypeNotDefined(uint32 dataType);
    /// @notice An asset with this id exists already (a re-run of an issue or batch).
    error AssetAlreadyIssued(bytes32 assetId);
    /// @notice No asset with this id.
    error AssetNotFound(bytes32 assetId);
    /// @notice The asset is not valid (revoked or superseded) for this change.
    error AssetNotCurrent(bytes32 assetId, AssetStatus status);
    /// @notice The asset is past its valid-until: it cannot be superseded (issue a new asset instead).
    error AssetExpired(bytes32 assetId, uint40 validUntil);
    /// @notice `account` did not issue the asset.
    error NotAssetIssuer(bytes32 assetId, address account);
    /// @notice A new asset has a zero subject id or content commitment, or a valid-until in the past.
    error InvalidNewAsset(bytes32 subjectId, uint32 dataType, uint40 validUntil);
    /// @notice A batch is empty.
    error EmptyBatch();
    /// @notice A supersede changes the holder or the type.
    error SupersedeMismatch(bytes32 previousAssetId);
    /// @notice The return request is not open.
    error ReturnRequestNotOpen(bytes32 requestId, ReturnRequestStatus status);
    /// @notice `account` is not the department the request was made to.
    error NotRequestedDepartment(bytes32 requestId, address account);
    /// @notice The asset does not answer the request (other holder or type).
    error ReturnRequestMismatch(bytes32 requestId);

    /// @notice A department returned a data asset to a holder.
    /// @param assetId the asset id (hash of its key)
    /// @param subjectId the holder
    /// @param issuer the department
    /// @param dataType catalog type id
    /// @param contentCommitment salted commitment to the data
    /// @param payloadPointer locator of the encrypted payload
    /// @param validUntil unix seconds; 0 = no expiry
    event AssetIssued(
        bytes32 indexed assetId,
        bytes32 indexed subjectId,
        address indexed issuer,
        uint32 dataType,
        bytes32 contentCommitment,
        bytes32 payloadPointer,
        uint40 validUntil
    );
    /// @notice An asset was revoked.
    /// @param assetId the asset
    /// @param by the issuer, or the governance caller
    /// @param reason reason code
    event AssetRevoked(bytes32 indexed assetId, address indexed by, uint16 reason);
    /// @notice A new version replaced an asset (the new one was issued in the same transaction).
    /// @param previousAssetId the replaced asset, now superseded
    /// @param newAssetId the new version
    /// @param issuer the department
    event AssetSuperseded(bytes32 indexed previousAssetId, bytes32 indexed newAssetId, address indexed issuer);
    /// @notice A holder asked a department to return data of a type.
    /// @param requestId request id
    /// @param subjectId the holder
    /// @param department the department asked
    /// @param dataType the type asked for
    event ReturnRequested(
        bytes32 indexed requestId,
        bytes32 indexed subjectId,
        address indexed department,
        uint32 dataType
    );
    /// @notice The department answered a return request with an asset.
    /// @param requestId request id
    /// @param assetId the asset issued
    /// @param department the department
    event ReturnRequestFulfilled(bytes32 indexed requestId, bytes32 indexed assetId, address indexed department);
    /// @notice The department declined a return request.
    /// @param requestId request id
    /// @param department the department
    /// @param reason reason code
    event ReturnRequestDeclined(bytes32 indexed requestId, address indexed department, uint16 reason);
    /// @notice The holder withdrew a return request.
    /// @param requestId request id
    /// @param by the holder's controller
    event ReturnRequestCancelled(bytes32 indexed requestId, address indexed by);

    /// @notice Issues one asset. Caller: a department authorised for the type.
    /// @return assetId the new asset id
    function issueAsset(NewAsset calldata asset) external returns (bytes32 assetId);

    /// @notice Issues several assets atomically; reverts whole if any exists already.
    /// @return assetIds the new asset ids, in order
    function issueAssets(NewAsset[] calldata assets) external returns (bytes32[] memory assetIds);

    /// @notice Revokes an asset. Caller: its issuer (`key.issuer`).
    function revokeAsset(AssetKey calldata key, uint16 reason) external;

    /// @notice Revokes an asset by governance. Governed (OPERATOR), delayed.
    function revokeAssetByGovernance(bytes32 assetId, uint16 reason) external;

    /// @notice Replaces a valid, unexpired asset by a new version. Caller: the issuer, still
    /// authorised for the type.
    /// @return newAssetId the new version's id
    function supersedeAsset(AssetKey calldata previous, NewAsset calldata next) external returns (bytes32 newAssetId);

    /// @notice Asks a department for data of a type. Caller: the holder's controller.
    /// @return requestId the request id
    function requestReturn(bytes32 subjectId, uint32 dataType, address department) external returns (bytes32 requestId);

    /// @notice Answers a return request with a new asset. Caller: the department asked.
    /// @return assetId the new asset id
    function fulfilReturnRequest(bytes32 requestId, NewAsset calldata asset) external returns (bytes32 assetId);

    /// @notice Declines a return request. Caller: the department asked.
    function declineReturnRequest(bytes32 requestId, uint16 reason) external;

    /// @notice Withdraws an open return request. Caller: the holder's controller.
    function cancelReturnRequest(bytes32 requestId) external;

    /// @notice The data catalog this registry reads.
    function catalog() external view returns (IDataCatalog);

    /// @notice Whether `issuer` may issue `dataType` now: an active department, authorised in the catalog.
    function canIssue(uint32 dataType, address issuer) external view returns (bool);

    /// @notice The stored asset (status None if unknown).
    function getAsset(bytes32 assetId) external view returns (Asset memory);

    /// @notice Whether the asset exists, is neither revoked nor superseded, and is not past valid-until.
    function isValid(bytes32 assetId) external view returns (bool);

    /// @notice Recomputes the id of `key` and tells whether that asset is valid and its issuer not
    /// suspended: the check a verifier holding a record runs. A suspended department's data is not
    /// vouched for (and not readable under consent) until it is reinstated. An issuer later
    /// deauthorised for the type (a reorganisation, or the type's deprecation) still vouches for
    /// what it issued; `canIssue` tells whether it may issue more. `isValid` is the record's own
    /// status, whoever issued it.
    function verifyAsset(AssetKey calldata key) external view returns (bool);

    /// @notice For each id, whether an asset with it exists (whatever its status): lets a re-run
    /// import skip what it already issued.
    function areIssued(bytes32[] calldata assetIds) external view returns (bool[] memory);

    /// @notice The stored return request.
    function getReturnRequest(bytes32 requestId) external view returns (ReturnRequest memory);

    /// @notice The id of the asset `key` describes.
    function assetIdOf(AssetKey calldata key) external pure returns (bytes32);

    /// @notice The tag that binds assets to a holder.
    function subjectTagOf(bytes32 subjectId) external pure returns (uint136);
}
