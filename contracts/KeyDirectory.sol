// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {MemberKind} from "./Common.sol";
import {IKeyDirectory, KeySuite} from "./interfaces/IKeyDirectory.sol";
import {IMemberDirectory} from "./interfaces/IMemberDirectory.sol";
import {ISubjectRegistry} from "./interfaces/ISubjectRegistry.sol";

/// @title Key directory
/// @notice See {IKeyDirectory}.
/// @dev Kept apart from `DataSafe`: no hot path (issue, grant, read, revoke) reads a key, only the
/// off-chain gateway does, and the core is close to the contract size limit. A key change asks the
/// core who is a member or a controller, one external call; nothing in the core depends on this
/// contract. A holder key is one entry per subject that remembers the controller that set it and
/// counts only while that controller is current, so a hand-over or recovery in the core empties
/// it without the core telling this contract anything.
contract KeyDirectory is IKeyDirectory, EIP712, Nonces {
    /// @notice EIP-712 type of a controller's signed holder-key change.
    bytes32 public constant SET_HOLDER_KEY_TYPEHASH = keccak256(
        "SetHolderKey(bytes32 subjectId,uint8 suite,bytes publicKey,uint256 nonce,uint256 deadline)"
    );

    /// @dev A holder key and the controller it is bound to; controller, suite and time share a slot.
    struct BoundKey {
        address controller; // the controller that set the key
        KeySuite suite; // the key's suite
        uint40 setAt; // unix seconds
        bytes publicKey; // the key
    }

    address private immutable _dataSafe;
    mapping(address member => EncryptionKey key) private _memberKeys;
    mapping(bytes32 subjectId => BoundKey key) private _holderKeys;

    /// @param dataSafe_ the DataSafe deployment whose members and subjects may set keys here
    constructor(address dataSafe_) EIP712("DataSafe KeyDirectory", "1") {
        if (dataSafe_.code.length == 0) revert InvalidDataSafe(dataSafe_);
        _dataSafe = dataSafe_;
    }

    /// @inheritdoc IKeyDirectory
    function setMemberKey(KeySuite suite, bytes calldata publicKey) external {
        _checkKey(suite, publicKey);
        address member = msg.sender;
        if (IMemberDirectory(_dataSafe).getMember(member).kind == MemberKind.None) revert MemberNotRegistered(member);
        EncryptionKey storage key = _memberKeys[member];
        key.suite = suite;
        key.setAt = uint40(block.timestamp);
        key.publicKey = publicKey;
        emit MemberKeySet(member, suite, publicKey);
    }

    /// @inheritdoc IKeyDirectory
    function setHolderKey(bytes32 subjectId, KeySuite suite, bytes calldata publicKey) external {
        _checkKey(suite, publicKey);
        address controller = _controllerOf(subjectId);
        if (controller != msg.sender) revert NotSubjectController(subjectId, msg.sender);
        _setHolderKey(subjectId, controller, suite, publicKey);
    }

    /// @inheritdoc IKeyDirectory
    function setHolderKeyBySig(
        bytes32 subjectId,
        KeySuite suite,
        bytes calldata publicKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _checkKey(suite, publicKey);
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        address controller = _controllerOf(subjectId);
        _useCheckedNonce(controller, nonce);
        bytes32 structHash = keccak256(
            abi.encode(SET_HOLDER_KEY_TYPEHASH, subjectId, suite, keccak256(publicKey), nonce, deadline)
        );
        // The signer must be the controller now: a rotated-away key's signatures fail.
        if (!SignatureChecker.isValidSignatureNow(controller, _hashTypedDataV4(structHash), signature)) {
            revert InvalidSignature(subjectId, controller);
        }
        _setHolderKey(subjectId, controller, suite, publicKey);
    }

    /// @inheritdoc IKeyDirectory
    function memberKey(address member) external view returns (EncryptionKey memory) {
        return _memberKeys[member];
    }

    /// @inheritdoc IKeyDirectory
    function holderKey(bytes32 subjectId) external view returns (EncryptionKey memory key) {
        BoundKey storage bound = _holderKeys[subjectId];
        address controller = ISubjectRegistry(_dataSafe).controllerOf(subjectId);
        if (controller != address(0) && bound.controller == controller) {
            key = EncryptionKey(bound.suite, bound.setAt, bound.publicKey);
        }
    }

    /// @inheritdoc IKeyDirectory
    function dataSafe() external view returns (address) {
        return _dataSafe;
    }

    /// @inheritdoc IKeyDirectory
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @dev The subject's current controller, reverting if the subject is not registered.
    function _controllerOf(bytes32 subjectId) private view returns (address controller) {
        controller = ISubjectRegistry(_dataSafe).controllerOf(subjectId);
        if (controller == address(0)) revert SubjectNotRegistered(subjectId);
    }

    function _setHolderKey(bytes32 subjectId, address controller, KeySuite suite, bytes calldata publicKey) private {
        BoundKey storage bound = _holderKeys[subjectId];
        bound.controller = controller;
        bound.suite = suite;
        bound.setAt = uint40(block.timestamp);
        bound.publicKey = publicKey;
        emit HolderKeySet(subjectId, controller, suite, publicKey);
    }

    /// @dev Reverts unless `publicKey` has the length of `suite` and is not all zero. Whether it is
    /// a point of the suite's curve is checked off chain (see {IKeyDirectory}).
    function _checkKey(KeySuite suite, bytes calldata publicKey) private pure {
        uint256 expected;
        if (suite == KeySuite.X25519Hpke) expected = 32;
        else if (suite == KeySuite.Sm2) expected = 64;
        else revert UnsupportedKeySuite(suite);
        if (publicKey.length != expected) revert InvalidKeyLength(suite, publicKey.length, expected);
        // Both lengths are whole words: the key is zero iff every word is.
        bool zero = true;
        for (uint256 offset; offset < expected; offset += 32) {
            if (bytes32(publicKey[offset:offset + 32]) != 0) zero = false;
        }
        if (zero) revert ZeroPublicKey(suite);
    }
}
