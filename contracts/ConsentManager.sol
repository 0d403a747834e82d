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
/// hashed into its id and passed back in full by whoever acts on it. A signed approval or rejection
/// hashes that content field by field, beside the id recomputed from it, so what a wallet shows is
/// what is approved.
///
/// Signature nonces are unordered: nonce = epoch (top 48 bits) | index (low 208 bits). The epoch
/// is the subject's `nonce` field, moved on by every hand-over, recovery and `invalidateNonce`, so
/// a signature made under an earlier key can never be used, even if control comes back to that key.
/// Indices 0-7 of the current epoch are marked in the subject's own slot (which a signed act reads
/// anyway); the others in a bitmap word per 256 (`nonce >> 8`, epoch included), as Permit2 does.
abstract contract ConsentManager is IConsentManager, AssetRegistry, EIP712 {
    /// @notice EIP-712 type of a signed approval: the request's content, as a wallet shows it.
    bytes32 public constant APPROVE_REQUEST_TYPEHASH = keccak256(
        "ApproveAccessRequest(bytes32 requestId,bytes32 subjectId,address consumer,uint8 scope,"
        "bytes32[] targets,uint64 fields,uint16 purpose,uint40 grantDuration,uint32 maxReads,"
        "uint40 expiresAt,uint64 requestNonce,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed rejection: the reason and the request's content.
    bytes32 public constant REJECT_REQUEST_TYPEHASH = keccak256(
        "RejectAccessRequest(bytes32 requestId,uint16 reason,bytes32 subjectId,address consumer,uint8 scope,"
        "bytes32[] targets,uint64 fields,uint16 purpose,uint40 grantDuration,uint32 maxReads,"
        "uint40 expiresAt,uint64 requestNonce,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed direct grant.
    bytes32 public constant GRANT_TYPEHASH = keccak256(
        "Grant(bytes32 subjectId,address[] consumers,uint8 scope,bytes32[] targets,uint64 fields,"
        "uint16 purpose,uint40 expiresAt,uint32 maxReads,uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed revocation: the grant and the version the holder saw.
    bytes32 public constant REVOKE_TYPEHASH = keccak256(
        "Revoke(bytes32 subjectId,address consumer,uint8 scope,bytes32 target,uint16 purpose,uint32 version,"
        "uint256 nonce,uint256 deadline)"
    );
    /// @notice EIP-712 type of a signed return request (a holder asking a department for its data).
    bytes32 public constant REQUEST_RETURN_TYPEHASH = keccak256(
        "RequestReturn(bytes32 subjectId,uint32 dataType,address department,uint256 nonce,uint256 deadline)"
    );
    /// @notice Most targets in one request or grant, and most grants one call issues.
    uint256 public constant MAX_GRANTS_PER_CALL = 32;
    /// @notice Longest grant a request may ask for, and furthest a direct grant's expiry may lie.
    uint40 public constant MAX_GRANT_DURATION = 3650 days;

    /// @dev A nonce's epoch: its top 48 bits.
    uint256 private constant _EPOCH_SHIFT = 208;
    /// @dev Nonce indices marked in the subject's slot (`Subject.usedNonces`).
    uint256 private constant _SLOT_NONCES = 8;

    mapping(bytes32 grantId => Grant grant) private _grants;
    mapping(bytes32 requestId => AccessRequestStatus status) private _requestStatus;
    mapping(bytes32 subjectId => mapping(uint256 wordPos => uint256 bitmap)) private _nonceWords;
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
        uint64 nonce = ++_requestCount;
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
            nonce
        );
        requestId = keccak256(
            _requestContent(
                subjectId,
                consumer,
                scope,
                keccak256(abi.encodePacked(targets)),
                fields,
                purpose,
                grantDuration,
                maxReads,
                expiresAt,
                nonce
            )
        );
        _requestStatus[requestId] = AccessRequestStatus.Open;
        emit AccessRequested(requestId, subjectId, consumer, request);
    }

    /// @inheritdoc IConsentManager
    function approveRequest(AccessRequest calldata request) external returns (bytes32[] memory grantIds) {
        _controlledSubject(request.subjectId, _msgSender());
        return _approve(request, requestIdOf(request));
    }

    /// @inheritdoc IConsentManager
    function approveRequestBySig(
        AccessRequest calldata request,
        Authorization calldata authorization
    ) external returns (bytes32[] memory grantIds) {
        bytes memory content = _requestContentOf(request);
        bytes32 requestId = keccak256(content);
        _useRequestSignature(
            abi.encode(APPROVE_REQUEST_TYPEHASH, requestId),
            content,
            request.subjectId,
            authorization
        );
        return _approve(request, requestId);
    }

    /// @inheritdoc IConsentManager
    function rejectRequest(AccessRequest calldata request, uint16 reason) external {
        _controlledSubject(request.subjectId, _msgSender());
        _reject(request, requestIdOf(request), reason);
    }

    /// @inheritdoc IConsentManager
    function rejectRequestBySig(
        AccessRequest calldata request,
        uint16 reason,
        Authorization calldata authorization
    ) external {
        bytes memory content = _requestContentOf(request);
        bytes32 requestId = keccak256(content);
        _useRequestSignature(
            abi.encode(REJECT_REQUEST_TYPEHASH, requestId, reason),
            content,
            request.subjectId,
            authorization
        );
        _reject(request, requestId, reason);
    }

    /// @inheritdoc IConsentManager
    function cancelRequest(AccessRequest calldata request) external {
        bytes32 requestId = requestIdOf(request);
        _requireOpen(requestId);
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
        _revokeGrant(key, 0);
    }

    /// @inheritdoc IConsentManager
    function revokeBySig(GrantKey calldata key, uint32 version, Authorization calldata authorization) external {
        bytes32 structHash = keccak256(
            abi.encode(
                REVOKE_TYPEHASH,
                key.subjectId,
                key.consumer,
                key.scope,
                key.target,
                key.purpose,
                version,
                authorization.nonce,
                authorization.deadline
            )
        );
        _useSignature(key.subjectId, structHash, authorization);
        _revokeGrant(key, version);
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
    function cancelNonces(bytes32 subjectId, uint256 wordPos, uint256 mask) external {
        Subject storage subject = _controlledSubject(subjectId, _msgSender());
        uint256 inWords = mask;
        if (wordPos == uint256(subject.nonce) << (_EPOCH_SHIFT - 8)) {
            // The epoch's first nonces live in the subject's slot; the word keeps the rest.
            subject.usedNonces |= uint8(mask);
            inWords = (mask >> _SLOT_NONCES) << _SLOT_NONCES;
        }
        if (inWords != 0) _nonceWords[subjectId][wordPos] |= inWords;
        emit NoncesCancelled(subjectId, wordPos, mask);
    }

    /// @inheritdoc IConsentManager
    function nonceBitmap(bytes32 subjectId, uint256 wordPos) public view returns (uint256 bitmap) {
        Subject storage subject = _existingSubject(subjectId);
        bitmap = _nonceWords[subjectId][wordPos];
        if (wordPos == uint256(subject.nonce) << (_EPOCH_SHIFT - 8)) bitmap |= subject.usedNonces;
    }

    /// @inheritdoc IConsentManager
    function isNonceUsed(bytes32 subjectId, uint256 nonce) external view returns (bool) {
        if (nonce >> _EPOCH_SHIFT != _existingSubject(subjectId).nonce) return true;
        return nonceBitmap(subjectId, nonce >> 8) & (1 << (nonce & 0xff)) != 0;
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
        return keccak256(_requestContentOf(request));
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

    function _approve(AccessRequest calldata request, bytes32 requestId) private returns (bytes32[] memory grantIds) {
        _requireOpen(requestId);
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

    function _reject(AccessRequest calldata request, bytes32 requestId, uint16 reason) private {
        _requireOpen(requestId);
        _requestStatus[requestId] = AccessRequestStatus.Rejected;
        emit AccessRequestRejected(requestId, request.subjectId, reason, _msgSender());
    }

    function _grantTerms(GrantTerms calldata terms) private returns (bytes32[] memory grantIds) {
        uint256 consumerCount = terms.consumers.length;
        uint256 targetCount = terms.targets.length;
        _checkCount(consumerCount * targetCount);
        uint40 expiresAt = terms.expiresAt;
        if (terms.maxReads == 0 || expiresAt <= block.timestamp || expiresAt > block.timestamp + MAX_GRANT_DURATION) {
            revert InvalidGrantTerms(expiresAt, terms.maxReads);
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

    /// @dev Revokes the grant's current version; `version`, if not 0, must be it.
    function _revokeGrant(GrantKey calldata key, uint32 version) private {
        bytes32 grantId = grantIdOf(key);
        Grant storage stored = _grants[grantId];
        if (stored.status != GrantStatus.Active) revert GrantNotActive(grantId, stored.status);
        uint32 current = stored.version;
        if (version != 0 && version != current) revert GrantVersionMismatch(grantId, version, current);
        stored.status = GrantStatus.Revoked;
        emit GrantRevoked(grantId, key.subjectId, key.consumer, current, _msgSender());
    }

    /// @dev A target must be a valid asset of the holder, or a data type and one of its issuers.
    function _checkTarget(bytes32 subjectId, GrantScope scope, bytes32 target) private view {
        if (scope == GrantScope.Asset) {
            Asset storage asset = _asset(target);
            if (!_isValid(asset) || asset.subjectTag != subjectTagOf(subjectId)) {
                revert InvalidAssetTarget(subjectId, target);
            }
        } else {
            // `issuer << 32 | dataType`: the issuer must be an active department authorised for the
            // type now, so the holder grants what that department actually returns.
            uint256 value = uint256(target);
            if (value >> 192 != 0) revert InvalidDataTypeTarget(target);
            _requireIssuer(uint32(value), address(uint160(value >> 32)));
        }
    }

    function _requireOpen(bytes32 requestId) private view {
        AccessRequestStatus status = _requestStatus[requestId];
        if (status != AccessRequestStatus.Open) revert RequestNotOpen(requestId, status);
    }

    function _checkCount(uint256 count) private pure {
        if (count == 0 || count > MAX_GRANTS_PER_CALL) revert InvalidGrantCount(count);
    }

    /// @dev What a request id is the hash of, and what a signed approval or rejection shows of the
    /// request: its fields in order, the targets as the hash of their concatenation (EIP-712's
    /// encoding of an array), the request's own nonce last.
    function _requestContent(
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        bytes32 targetsHash,
        uint64 fields,
        uint16 purpose,
        uint40 grantDuration,
        uint32 maxReads,
        uint40 expiresAt,
        uint64 nonce
    ) private pure returns (bytes memory) {
        return
            abi.encode(
                subjectId,
                consumer,
                scope,
                targetsHash,
                fields,
                purpose,
                grantDuration,
                maxReads,
                expiresAt,
                nonce
            );
    }

    function _requestContentOf(AccessRequest calldata request) private pure returns (bytes memory) {
        return
            _requestContent(
                request.subjectId,
                request.consumer,
                request.scope,
                keccak256(abi.encodePacked(request.targets)),
                request.fields,
                request.purpose,
                request.grantDuration,
                request.maxReads,
                request.expiresAt,
                request.nonce
            );
    }

    /// @dev Checks the controller's signature of an approval or a rejection: `head` (typehash, id,
    /// and a rejection's reason), the request's `content`, then the signature's nonce and deadline.
    function _useRequestSignature(
        bytes memory head,
        bytes memory content,
        bytes32 subjectId,
        Authorization calldata authorization
    ) private {
        bytes32 structHash = keccak256(
            bytes.concat(head, content, abi.encode(authorization.nonce, authorization.deadline))
        );
        _useSignature(subjectId, structHash, authorization);
    }

    /// @dev Checks a controller's signature over `structHash` and spends its nonce. The signer must
    /// be the controller now, and the nonce of this epoch and unused: a rotated-away key's
    /// signatures fail, and so does any signature made before a hand-over, a recovery or an
    /// `invalidateNonce`.
    function _useSignature(bytes32 subjectId, bytes32 structHash, Authorization calldata authorization) private {
        if (block.timestamp > authorization.deadline) revert SignatureExpired(authorization.deadline);
        Subject storage subject = _existingSubject(subjectId);
        uint256 nonce = authorization.nonce;
        uint48 epoch = subject.nonce;
        if (nonce >> _EPOCH_SHIFT != epoch) revert NonceEpochMismatch(subjectId, nonce, epoch);
        uint256 bit = 1 << (nonce & 0xff);
        if (nonce & ((1 << _EPOCH_SHIFT) - 1) < _SLOT_NONCES) {
            uint8 used = subject.usedNonces;
            if (used & bit != 0) revert NonceUsed(subjectId, nonce);
            subject.usedNonces = used | uint8(bit);
        } else {
            mapping(uint256 wordPos => uint256 bitmap) storage words = _nonceWords[subjectId];
            uint256 word = words[nonce >> 8];
            if (word & bit != 0) revert NonceUsed(subjectId, nonce);
            words[nonce >> 8] = word | bit;
        }
        address controller = subject.controller;
        if (!SignatureChecker.isValidSignatureNow(controller, _hashTypedDataV4(structHash), authorization.signature)) {
            revert InvalidSignature(subjectId, controller);
        }
    }
}
