// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

import {
    AccessRequest,
    AccessRequestStatus,
    Authorization,
    GrantKey,
    GrantScope,
    GrantStatus,
    GrantTerms,
    MemberKind
} from "./Common.sol";
import {IConsentManager} from "./interfaces/IConsentManager.sol";
import {AssetRegistry} from "./AssetRegistry.sol";

/// @title Consent
/// @notice See {IConsentManager}.
/// @dev A grant is one storage slot keyed by the hash of its `GrantKey`, so a read finds its grant
/// from what the consumer states (holder, scope, purpose, asset) and the key itself proves the
/// grant is this consumer's, for this target. A request stores only its status: its content is
/// hashed into its id and passed back in full by whoever acts on it.
abstract contract ConsentManager is IConsentManager, AssetRegistry, EIP712 {
    /// @notice EIP-712 type of a signed approval.
    bytes32 public constant APPROVE_REQUEST_TYPEHASH = keccak256(
        "ApproveAccessRequest(bytes32 requestId,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed rejection.
    bytes32 public constant REJECT_REQUEST_TYPEHASH = keccak256(
        "RejectAccessRequest(bytes32 requestId,uint16 reason,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed direct grant.
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 subjectId,address[] consumers,uint8 scope,bytes32[] targets,uint64 fields,uint16 purpose,uint40 expiresAt,uint32 maxReads,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed revocation.
    bytes32 public constant REVOKE_TYPEHASH = keccak256(
        "Revoke(bytes32 subjectId,address consumer,uint8 scope,bytes32 target,uint16 purpose,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed return request (a holder asking a department for its data).
    bytes32 public constant REQUEST_RETURN_TYPEHASH = keccak256(
        "RequestReturn(bytes32 subjectId,uint32 dataType,address department,uint256 nonce,uint256 deadline)"
    );
    /// @notice Most targets in one request or grant, and most grants one call issues.
    uint256 public constant MAX_GRANTS_PER_CALL = 32;
    /// @notice Longest grant a request may ask for.
    uint40 public constant MAX_GRANT_DURATION = 3650 days;

    mapping(bytes32 grantId => Grant grant) private _grants;
    mapping(bytes32 requestId => AccessRequestStatus status) private _requestStatus;
    uint64 private _requestCount;

    /// @inheritdoc IConsentManager
    function requestAccess(
        bytes32 subjectId,
        GrantScope scope,
        bytes32[] calldata targets,
        uint64 fields,
        uint16 purpose,
        uint40 grantDuration,
        uint32 maxReads,
        uint40 expiresAt
    ) external returns (bytes32 requestId, AccessRequest memory request) {
        address consumer = _msgSender();
        _requireActiveMember(consumer, MemberKind.Consumer);
        _existingSubject(subjectId);
        _checkCount(targets.length);
        if (grantDuration == 0 || grantDuration > MAX_GRANT_DURATION || maxReads == 0 || expiresAt <= block.timestamp) {
            revert InvalidGrantTerms(expiresAt, maxReads);
        }
        request = AccessRequest(
            subjectId,
            consumer,
            scope,
            targets,
            fields,
            purpose,
            grantDuration,
            maxReads,
            expiresAt,
            ++_requestCount
        );
        requestId = keccak256(abi.encode(request));
        _requestStatus[requestId] = AccessRequestStatus.Open;
        emit AccessRequested(requestId, subjectId, consumer, request);
    }

    /// @inheritdoc IConsentManager
    function approveRequest(AccessRequest calldata request) external returns (bytes32[] memory grantIds) {
        _controlledSubject(request.subjectId, _msgSender());
        return _approve(request);
    }

    /// @inheritdoc IConsentManager
    function approveRequestBySig(
        AccessRequest calldata request,
        Authorization calldata authorization
    ) external returns (bytes32[] memory grantIds) {
        bytes32 requestId = requestIdOf(request);
        _useSignature(
            request.subjectId,
            keccak256(abi.encode(APPROVE_REQUEST_TYPEHASH, requestId, authorization.nonce, authorization.deadline)),
            authorization
        );
        return _approve(request);
    }

    /// @inheritdoc IConsentManager
    function rejectRequest(AccessRequest calldata request, uint16 reason) external {
        _controlledSubject(request.subjectId, _msgSender());
        _reject(request, reason);
    }

    /// @inheritdoc IConsentManager
    function rejectRequestBySig(
        AccessRequest calldata request,
        uint16 reason,
        Authorization calldata authorization
    ) external {
        bytes32 requestId = requestIdOf(request);
        _useSignature(
            request.subjectId,
            keccak256(
                abi.encode(REJECT_REQUEST_TYPEHASH, requestId, reason, authorization.nonce, authorization.deadline)
            ),
            authorization
        );
        _reject(request, reason);
    }

    /// @inheritdoc IConsentManager
    function cancelRequest(AccessRequest calldata request) external {
        bytes32 requestId = _openRequest(request);
        if (request.consumer != _msgSender()) revert NotRequestConsumer(requestId, _msgSender());
        _requestStatus[requestId] = AccessRequestStatus.Cancelled;
        emit AccessRequestCancelled(requestId, request.consumer);
    }

    /// @inheritdoc IConsentManager
    function grant(GrantTerms calldata terms) external returns (bytes32[] memory grantIds) {
        _controlledSubject(terms.subjectId, _msgSender());
        return _grantTerms(terms);
    }

    /// @inheritdoc IConsentManager
    function grantBySig(
        GrantTerms calldata terms,
        Authorization calldata authorization
    ) external returns (bytes32[] memory grantIds) {
        bytes32 structHash = keccak256(
            abi.encode(
                GRANT_TYPEHASH,
                terms.subjectId,
                keccak256(abi.encodePacked(terms.consumers)),
                terms.scope,
                keccak256(abi.encodePacked(terms.targets)),
                terms.fields,
                terms.purpose,
                terms.expiresAt,
                terms.maxReads,
                authorization.nonce,
                authorization.deadline
            )
        );
        _useSignature(terms.subjectId, structHash, authorization);
        return _grantTerms(terms);
    }

    /// @inheritdoc IConsentManager
    function revoke(GrantKey calldata key) external {
        _controlledSubject(key.subjectId, _msgSender());
        _revokeGrant(key);
    }

    /// @inheritdoc IConsentManager
    function revokeBySig(GrantKey calldata key, Authorization calldata authorization) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVOKE_TYPEHASH,
                key.subjectId,
                key.consumer,
                key.scope,
                key.target,
                key.purpose,
                authorization.nonce,
                authorization.deadline
            )
        );
        _useSignature(key.subjectId, structHash, authorization);
        _revokeGrant(key);
    }

    /// @inheritdoc IConsentManager
    function requestReturnBySig(
        bytes32 subjectId,
        uint32 dataType,
        address department,
        Authorization calldata authorization
    ) external returns (bytes32 requestId) {
        _useSignature(
            subjectId,
            keccak256(
                abi.encode(
                    REQUEST_RETURN_TYPEHASH,
                    subjectId,
                    dataType,
                    department,
                    authorization.nonce,
                    authorization.deadline
                )
            ),
            authorization
        );
        return _requestReturn(subjectId, dataType, department);
    }

    /// @inheritdoc IConsentManager
    function getGrant(bytes32 grantId) external view returns (Grant memory) {
        return _grants[grantId];
    }

    /// @inheritdoc IConsentManager
    function getRequestStatus(bytes32 requestId) external view returns (AccessRequestStatus) {
        return _requestStatus[requestId];
    }

    /// @inheritdoc IConsentManager
    function grantIdOf(GrantKey calldata key) public pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    /// @inheritdoc IConsentManager
    function requestIdOf(AccessRequest calldata request) public pure returns (bytes32) {
        return keccak256(abi.encode(request));
    }

    /// @inheritdoc IConsentManager
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev The stored grant, for the access log.
    function _grant(bytes32 grantId) internal view returns (Grant storage) {
        return _grants[grantId];
    }

    /// @dev The id of the grant for these fields (same as `keccak256(abi.encode(GrantKey(...)))`).
    function _grantId(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        bytes32 target,
        uint16 purpose
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(subjectId, consumer, scope, target, purpose));
    }

    function _approve(AccessRequest calldata request) private returns (bytes32[] memory grantIds) {
        bytes32 requestId = _openRequest(request);
        if (block.timestamp > request.expiresAt) revert RequestExpired(requestId, request.expiresAt);
        _requestStatus[requestId] = AccessRequestStatus.Approved;
        emit AccessRequestApproved(requestId, request.subjectId, _msgSender());
        _requireActiveMember(request.consumer, MemberKind.Consumer);
        uint40 expiresAt = uint40(block.timestamp) + request.grantDuration;
        uint256 count = request.targets.length;
        grantIds = new bytes32[](count);
        for (uint256 i; i < count; ++i) {
            bytes32 target = request.targets[i];
            _checkTarget(request.subjectId, request.scope, target);
            grantIds[i] = _issueGrant(
                request.subjectId,
                request.consumer,
                request.scope,
                target,
                request.fields,
                request.purpose,
                expiresAt,
                request.maxReads,
                requestId
            );
        }
    }

    function _reject(AccessRequest calldata request, uint16 reason) private {
        bytes32 requestId = _openRequest(request);
        _requestStatus[requestId] = AccessRequestStatus.Rejected;
        emit AccessRequestRejected(requestId, request.subjectId, reason, _msgSender());
    }

    function _grantTerms(GrantTerms calldata terms) private returns (bytes32[] memory grantIds) {
        uint256 consumerCount = terms.consumers.length;
        uint256 targetCount = terms.targets.length;
        _checkCount(consumerCount * targetCount);
        if (terms.maxReads == 0 || terms.expiresAt <= block.timestamp) {
            revert InvalidGrantTerms(terms.expiresAt, terms.maxReads);
        }
        for (uint256 t; t < targetCount; ++t) {
            _checkTarget(terms.subjectId, terms.scope, terms.targets[t]);
        }
        grantIds = new bytes32[](consumerCount * targetCount);
        for (uint256 c; c < consumerCount; ++c) {
            address consumer = terms.consumers[c];
            _requireActiveMember(consumer, MemberKind.Consumer);
            for (uint256 t; t < targetCount; ++t) {
                grantIds[c * targetCount + t] = _issueGrant(
                    terms.subjectId,
                    consumer,
                    terms.scope,
                    terms.targets[t],
                    terms.fields,
                    terms.purpose,
                    terms.expiresAt,
                    terms.maxReads,
                    0
                );
            }
        }
    }

    function _issueGrant(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        bytes32 target,
        uint64 fields,
        uint16 purpose,
        uint40 expiresAt,
        uint32 maxReads,
        bytes32 requestId
    ) private returns (bytes32 grantId) {
        grantId = _grantId(subjectId, consumer, scope, target, purpose);
        Grant storage stored = _grants[grantId];
        uint32 version = stored.version + 1;
        _grants[grantId] = Grant(GrantStatus.Active, uint40(block.timestamp), expiresAt, maxReads, 0, version, fields);
        emit GrantIssued(
            grantId,
            subjectId,
            consumer,
            scope,
            target,
            fields,
            purpose,
            expiresAt,
            maxReads,
            version,
            requestId
        );
    }

    function _revokeGrant(GrantKey calldata key) private {
        bytes32 grantId = grantIdOf(key);
        Grant storage stored = _grants[grantId];
        if (stored.status != GrantStatus.Active) revert GrantNotActive(grantId, stored.status);
        stored.status = GrantStatus.Revoked;
        emit GrantRevoked(grantId, key.subjectId, key.consumer, stored.version, _msgSender());
    }

    /// @dev A target must be a valid asset of the holder, or a defined data type.
    function _checkTarget(bytes32 subjectId, GrantScope scope, bytes32 target) private view {
        if (scope == GrantScope.Asset) {
            Asset storage asset = _asset(target);
            if (!_isValid(asset) || asset.subjectTag != subjectTagOf(subjectId)) {
                revert InvalidAssetTarget(subjectId, target);
            }
        } else {
            uint256 dataType = uint256(target);
            if (dataType == 0 || dataType > type(uint32).max) revert InvalidDataTypeTarget(target);
            _requireDefinedDataType(uint32(dataType));
        }
    }

    function _openRequest(AccessRequest calldata request) private view returns (bytes32 requestId) {
        requestId = requestIdOf(request);
        AccessRequestStatus status = _requestStatus[requestId];
        if (status != AccessRequestStatus.Open) revert RequestNotOpen(requestId, status);
    }

    function _checkCount(uint256 count) private pure {
        if (count == 0 || count > MAX_GRANTS_PER_CALL) revert InvalidGrantCount(count);
    }

    /// @dev Checks a controller's signature over `structHash` and consumes the holder's nonce. The
    /// signer must be the controller now: a rotated-away key's signatures fail.
    function _useSignature(bytes32 subjectId, bytes32 structHash, Authorization calldata authorization) private {
        if (block.timestamp > authorization.deadline) revert SignatureExpired(authorization.deadline);
        Subject storage subject = _existingSubject(subjectId);
        uint48 nonce = subject.nonce;
        if (authorization.nonce != nonce) revert InvalidSubjectNonce(subjectId, nonce);
        address controller = subject.controller;
        if (!SignatureChecker.isValidSignatureNow(controller, _hashTypedDataV4(structHash), authorization.signature)) {
            revert InvalidSignature(subjectId, controller);
        }
        // Cannot overflow: one increment per signed act, 2^48 of them is beyond any holder.
        unchecked {
            subject.nonce = nonce + 1;
        }
    }
}
