// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AssetKey, AssetStatus, MemberKind, NewAsset, ReturnRequestStatus} from "./Common.sol";
import {IAssetRegistry} from "./interfaces/IAssetRegistry.sol";
import {IDataCatalog} from "./interfaces/IDataCatalog.sol";
import {SubjectRegistry} from "./SubjectRegistry.sol";

/// @title Data-asset registry
/// @notice See {IAssetRegistry}.
/// @dev An asset is one storage slot. Issuer and content commitment are not stored: they are part
/// of the hashed key that is the asset id, and they are in the `AssetIssued` event. The holder is
/// stored as a 136-bit tag of the hash of the subject id, enough to tell one holder's assets from
/// another's: subject ids are assigned by identity authorities, and a colliding one would need
/// about 2^136 attempts for a chosen victim. Assets may be issued to a subject id before its holder
/// registers (the data waits in the safe); only a registered controller can ever grant access.
abstract contract AssetRegistry is IAssetRegistry, SubjectRegistry {
    IDataCatalog private immutable _catalog;
    mapping(bytes32 assetId => Asset asset) private _assets;
    mapping(bytes32 requestId => ReturnRequest request) private _returnRequests;
    uint64 private _returnRequestCount;

    /// @param catalog_ the data catalog that says who may issue each type
    constructor(IDataCatalog catalog_) {
        _catalog = catalog_;
    }

    /// @inheritdoc IAssetRegistry
    function issueAsset(NewAsset calldata asset) external returns (bytes32 assetId) {
        address issuer = _msgSender();
        _requireIssuer(asset.dataType, issuer);
        assetId = _issue(asset, issuer);
    }

    /// @inheritdoc IAssetRegistry
    function issueAssets(NewAsset[] calldata assets) external returns (bytes32[] memory assetIds) {
        uint256 count = assets.length;
        if (count == 0) revert EmptyBatch();
        address issuer = _msgSender();
        assetIds = new bytes32[](count);
        // The first item always checks its issuer; later items re-check only when the type
        // changes (departments issue in runs of one type).
        uint32 checkedType;
        for (uint256 i; i < count; ++i) {
            NewAsset calldata asset = assets[i];
            if (i == 0 || asset.dataType != checkedType) {
                _requireIssuer(asset.dataType, issuer);
                checkedType = asset.dataType;
            }
            assetIds[i] = _issue(asset, issuer);
        }
    }

    /// @inheritdoc IAssetRegistry
    function revokeAsset(AssetKey calldata key, uint16 reason) external {
        bytes32 assetId = assetIdOf(key);
        if (key.issuer != _msgSender()) revert NotAssetIssuer(assetId, _msgSender());
        _revoke(assetId, reason);
    }

    /// @inheritdoc IAssetRegistry
    function revokeAssetByGovernance(bytes32 assetId, uint16 reason) external restricted {
        _revoke(assetId, reason);
    }

    /// @inheritdoc IAssetRegistry
    function supersedeAsset(AssetKey calldata previous, NewAsset calldata next) external returns (bytes32 newAssetId) {
        address issuer = _msgSender();
        bytes32 previousAssetId = assetIdOf(previous);
        if (previous.issuer != issuer) revert NotAssetIssuer(previousAssetId, issuer);
        if (next.subjectId != previous.subjectId || next.dataType != previous.dataType) {
            revert SupersedeMismatch(previousAssetId);
        }
        Asset storage old = _currentAsset(previousAssetId);
        // An expired asset is no longer current: marking it superseded would rewrite its history.
        // Renewing an expired record is a new issue.
        uint40 validUntil = old.validUntil;
        if (validUntil != 0 && block.timestamp > validUntil) revert AssetExpired(previousAssetId, validUntil);
        _requireIssuer(next.dataType, issuer);
        old.status = AssetStatus.Superseded;
        newAssetId = _issue(next, issuer);
        emit AssetSuperseded(previousAssetId, newAssetId, issuer);
    }

    /// @inheritdoc IAssetRegistry
    function requestReturn(
        bytes32 subjectId,
        uint32 dataType,
        address department
    ) external returns (bytes32 requestId) {
        _controlledSubject(subjectId, _msgSender());
        return _requestReturn(subjectId, dataType, department);
    }

    /// @dev Opens a return request once the holder's authority is checked.
    function _requestReturn(
        bytes32 subjectId,
        uint32 dataType,
        address department
    ) internal returns (bytes32 requestId) {
        _requireIssuer(dataType, department);
        uint64 count = ++_returnRequestCount;
        requestId = keccak256(abi.encode(subjectId, dataType, department, count));
        _returnRequests[requestId] = ReturnRequest(
            subjectId,
            department,
            dataType,
            ReturnRequestStatus.Open,
            uint40(block.timestamp)
        );
        emit ReturnRequested(requestId, subjectId, department, dataType);
    }

    /// @inheritdoc IAssetRegistry
    function fulfilReturnRequest(bytes32 requestId, NewAsset calldata asset) external returns (bytes32 assetId) {
        address department = _msgSender();
        ReturnRequest storage request = _openReturnRequest(requestId, department);
        if (asset.subjectId != request.subjectId || asset.dataType != request.dataType) {
            revert ReturnRequestMismatch(requestId);
        }
        _requireIssuer(asset.dataType, department);
        request.status = ReturnRequestStatus.Fulfilled;
        assetId = _issue(asset, department);
        emit ReturnRequestFulfilled(requestId, assetId, department);
    }

    /// @inheritdoc IAssetRegistry
    function declineReturnRequest(bytes32 requestId, uint16 reason) external {
        address department = _msgSender();
        _openReturnRequest(requestId, department).status = ReturnRequestStatus.Declined;
        emit ReturnRequestDeclined(requestId, department, reason);
    }

    /// @inheritdoc IAssetRegistry
    function cancelReturnRequest(bytes32 requestId) external {
        ReturnRequest storage request = _returnRequests[requestId];
        if (request.status != ReturnRequestStatus.Open) revert ReturnRequestNotOpen(requestId, request.status);
        _controlledSubject(request.subjectId, _msgSender());
        request.status = ReturnRequestStatus.Cancelled;
        emit ReturnRequestCancelled(requestId, _msgSender());
    }

    /// @inheritdoc IAssetRegistry
    function catalog() external view returns (IDataCatalog) {
        return _catalog;
    }

    /// @inheritdoc IAssetRegistry
    function canIssue(uint32 dataType, address issuer) external view returns (bool) {
        return isActiveMember(issuer, MemberKind.Department) && _catalog.isAuthorisedIssuer(dataType, issuer);
    }

    /// @inheritdoc IAssetRegistry
    function getAsset(bytes32 assetId) external view returns (Asset memory) {
        return _assets[assetId];
    }

    /// @inheritdoc IAssetRegistry
    function isValid(bytes32 assetId) public view returns (bool) {
        return _isValid(_assets[assetId]);
    }

    /// @inheritdoc IAssetRegistry
    function verifyAsset(AssetKey calldata key) external view returns (bool) {
        return isValid(assetIdOf(key)) && isActiveMember(key.issuer, MemberKind.Department);
    }

    /// @inheritdoc IAssetRegistry
    function areIssued(bytes32[] calldata assetIds) external view returns (bool[] memory issued) {
        issued = new bool[](assetIds.length);
        for (uint256 i; i < assetIds.length; ++i) {
            issued[i] = _assets[assetIds[i]].status != AssetStatus.None;
        }
    }

    /// @inheritdoc IAssetRegistry
    function getReturnRequest(bytes32 requestId) external view returns (ReturnRequest memory) {
        return _returnRequests[requestId];
    }

    /// @inheritdoc IAssetRegistry
    function assetIdOf(AssetKey calldata key) public pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    /// @inheritdoc IAssetRegistry
    function subjectTagOf(bytes32 subjectId) public pure returns (uint136) {
        return uint136(uint256(keccak256(abi.encode(subjectId))));
    }

    /// @dev Reverts unless `issuer` is an active department authorised for `dataType`.
    function _requireIssuer(uint32 dataType, address issuer) internal view {
        _requireActiveMember(issuer, MemberKind.Department);
        if (!_catalog.isAuthorisedIssuer(dataType, issuer)) revert IssuerNotAuthorised(dataType, issuer);
    }

    /// @dev The stored asset, for the consent module's checks.
    function _asset(bytes32 assetId) internal view returns (Asset storage) {
        return _assets[assetId];
    }

    /// @dev Valid: issued, neither revoked nor superseded, and not past valid-until.
    function _isValid(Asset storage asset) internal view returns (bool) {
        if (asset.status != AssetStatus.Valid) return false;
        uint40 validUntil = asset.validUntil;
        return validUntil == 0 || block.timestamp <= validUntil;
    }

    function _issue(NewAsset calldata asset, address issuer) private returns (bytes32 assetId) {
        bytes32 subjectId = asset.subjectId;
        uint40 validUntil = asset.validUntil;
        if (subjectId == 0 || asset.contentCommitment == 0 || (validUntil != 0 && validUntil < block.timestamp)) {
            revert InvalidNewAsset(subjectId, asset.dataType, validUntil);
        }
        assetId = keccak256(abi.encode(AssetKey(issuer, subjectId, asset.dataType, asset.contentCommitment)));
        Asset storage stored = _assets[assetId];
        if (stored.status != AssetStatus.None) revert AssetAlreadyIssued(assetId);
        _assets[assetId] = Asset(
            AssetStatus.Valid,
            asset.dataType,
            uint40(block.timestamp),
            validUntil,
            subjectTagOf(subjectId)
        );
        emit AssetIssued(
            assetId,
            subjectId,
            issuer,
            asset.dataType,
            asset.contentCommitment,
            asset.payloadPointer,
            validUntil
        );
    }

    function _revoke(bytes32 assetId, uint16 reason) private {
        _currentAsset(assetId).status = AssetStatus.Revoked;
        emit AssetRevoked(assetId, _msgSender(), reason);
    }

    function _currentAsset(bytes32 assetId) private view returns (Asset storage asset) {
        asset = _assets[assetId];
        if (asset.status == AssetStatus.None) revert AssetNotFound(assetId);
        if (asset.status != AssetStatus.Valid) revert AssetNotCurrent(assetId, asset.status);
    }

    function _openReturnRequest(
        bytes32 requestId,
        address department
    ) private view returns (ReturnRequest storage request) {
        request = _returnRequests[requestId];
        if (request.status != ReturnRequestStatus.Open) revert ReturnRequestNotOpen(requestId, request.status);
        if (request.department != department) revert NotRequestedDepartment(requestId, department);
    }
}
