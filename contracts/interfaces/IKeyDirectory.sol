// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @notice The public-key encryption a key is for. Payloads released off chain are encrypted to the
/// recipient's key in its suite.
enum KeySuite {
    None,
    X25519Hpke, // HPKE (RFC 9180) DHKEM(X25519, HKDF-SHA256): a 32-byte X25519 public key
    Sm2 // SM2 public-key encryption with SM3 and SM4 (GB/T 32918): a 64-byte uncompressed point x || y
}

/// @title Key directory
/// @notice The encryption keys that payloads are released to: one per member of a DataSafe
/// deployment, set and rotated by the member itself, and one per subject (the holder's safe box),
/// set by the subject's current controller directly or by a signature anyone relays. A holder key
/// is bound to the controller that set it: after a hand-over or a recovery the subject has no key
/// until the new controller sets one, so a rotated-away key never receives anything again.
/// Only the off-chain gateway reads keys; the contract checks a key's suite and length, and
/// whether it lies on its curve is for the gateway and the SDK to check before encrypting to it
/// (on-chain point validation would cost far more than the rare key change is worth).
interface IKeyDirectory {
    /// @notice A public encryption key as stored and returned.
    struct EncryptionKey {
        KeySuite suite; // None if no key is set
        uint40 setAt; // unix seconds of the change
        bytes publicKey; // 32 bytes for X25519Hpke, 64 for Sm2
    }

    /// @notice The DataSafe address given at deployment has no code.
    error InvalidDataSafe(address dataSafe);
    /// @notice `suite` is None: a key must name its suite.
    error UnsupportedKeySuite(KeySuite suite);
    /// @notice The key's length does not match its suite.
    error InvalidKeyLength(KeySuite suite, uint256 length, uint256 expectedLength);
    /// @notice The key is all zero bytes (no valid key of any suite).
    error ZeroPublicKey(KeySuite suite);
    /// @notice `account` is not a member of the DataSafe deployment.
    error MemberNotRegistered(address account);
    /// @notice No such subject in the DataSafe deployment.
    error SubjectNotRegistered(bytes32 subjectId);
    /// @notice `account` is not the current controller of `subjectId`.
    error NotSubjectController(bytes32 subjectId, address account);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice The signature is not the current controller's over this message.
    error InvalidSignature(bytes32 subjectId, address controller);

    /// @notice A member set or rotated its encryption key.
    /// @param member the member's account
    /// @param suite the key's suite
    /// @param publicKey the new key
    event MemberKeySet(address indexed member, KeySuite suite, bytes publicKey);
    /// @notice A subject's controller set or rotated the holder's encryption key.
    /// @param subjectId pseudonymous id of the holder
    /// @param controller the controller the key is bound to
    /// @param suite the key's suite
    /// @param publicKey the new key
    event HolderKeySet(bytes32 indexed subjectId, address indexed controller, KeySuite suite, bytes publicKey);

    /// @notice Sets or rotates the caller's own member key; takes effect at once, for every payload
    /// released from then on. Caller: any member of the DataSafe deployment (a suspended one too:
    /// replacing a compromised key must not wait for reinstatement, and nothing is released to a
    /// suspended member anyway).
    function setMemberKey(KeySuite suite, bytes calldata publicKey) external;

    /// @notice Sets or rotates the holder key of `subjectId`. Caller: the subject's current controller.
    function setHolderKey(bytes32 subjectId, KeySuite suite, bytes calldata publicKey) external;

    /// @notice Sets or rotates the holder key of `subjectId` with the current controller's EIP-712
    /// `SetHolderKey` signature (65-byte ECDSA, or what its EIP-1271 wallet accepts); anyone may
    /// relay. The nonce is the controller's (`nonces(controller)`), used once.
    /// @param nonce the controller's current nonce in this directory
    /// @param deadline unix seconds after which the signature is refused
    function setHolderKeyBySig(
        bytes32 subjectId,
        KeySuite suite,
        bytes calldata publicKey,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The member's current key (suite None if it has set none).
    function memberKey(address member) external view returns (EncryptionKey memory);

    /// @notice The holder key set by the subject's current controller; empty (suite None) if the
    /// current controller has set none, e.g. since a hand-over or recovery, or if no such subject.
    function holderKey(bytes32 subjectId) external view returns (EncryptionKey memory);

    /// @notice The DataSafe deployment whose members and subjects this directory serves.
    function dataSafe() external view returns (address);

    /// @notice The EIP-712 domain separator of this directory (name "DataSafe KeyDirectory", version "1").
    function domainSeparator() external view returns (bytes32);
}
