// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

/// @title Subject registry
/// @notice Citizens and companies ("subjects") are known on chain only by a pseudonymous id: a
/// salted commitment to their real identifier, computed off chain by an identity authority. Each
/// subject is controlled by one address, which may be a smart-contract wallet. The controller can
/// hand control to a new key; an identity authority can recover a subject whose key is lost, after
/// a delay during which the current controller, the authority that started it or governance can
/// cancel. A hand-over ends any pending recovery. Assets and grants belong to the subject, not the
/// key: a rotated-away key loses all power at once, and nothing else changes.
interface ISubjectRegistry {
    /// @notice A subject as stored.
    struct Subject {
        address controller; // the key that acts for the subject
        uint40 registeredAt; // unix seconds
        uint48 nonce; // signature epoch: the top 48 bits of every nonce the controller's signatures carry now
        uint8 usedNonces; // bitmap of the epoch's nonces 0-7, used or cancelled (the rest: `nonceBitmap`)
    }

    /// @notice A pending recovery.
    struct Recovery {
        address newController; // the key that will take control
        uint40 executableAt; // unix seconds from which anyone may complete it
        address authority; // the identity authority that started it
    }

    /// @notice Subject id 0 or controller 0.
    error InvalidSubject(bytes32 subjectId, address controller);
    /// @notice The subject id is taken.
    error SubjectAlreadyRegistered(bytes32 subjectId);
    /// @notice No such subject.
    error SubjectNotRegistered(bytes32 subjectId);
    /// @notice `account` is not the controller of `subjectId`.
    error NotSubjectController(bytes32 subjectId, address account);
    /// @notice No recovery is pending for the subject.
    error NoPendingRecovery(bytes32 subjectId);
    /// @notice The recovery delay has not passed.
    error RecoveryNotReady(bytes32 subjectId, uint40 executableAt);
    /// @notice The recovery delay is above the allowed maximum.
    error InvalidRecoveryDelay(uint32 delay);
    /// @notice Another identity authority's recovery is pending; it must be cancelled first.
    error RecoveryAlreadyPending(bytes32 subjectId, address authority);
    /// @notice `account` may not cancel the pending recovery: it is neither the controller nor the
    /// identity authority that started it (governance uses `cancelRecoveryByGovernance`).
    error NotRecoveryAuthority(bytes32 subjectId, address account);

    /// @notice A subject was registered.
    /// @param subjectId pseudonymous id
    /// @param controller the controlling key
    /// @param authority identity authority that registered it
    event SubjectRegistered(bytes32 indexed subjectId, address indexed controller, address indexed authority);
    /// @notice Control of a subject moved to another key.
    /// @param subjectId pseudonymous id
    /// @param previousController the key that lost control
    /// @param newController the key that gained it
    /// @param by who moved it (the previous controller, or anyone completing a recovery)
    event ControllerChanged(
        bytes32 indexed subjectId,
        address indexed previousController,
        address indexed newController,
        address by
    );
    /// @notice An identity authority started a recovery.
    /// @param subjectId pseudonymous id
    /// @param newController the proposed key
    /// @param executableAt when it can complete
    /// @param authority the identity authority
    event RecoveryInitiated(
        bytes32 indexed subjectId,
        address indexed newController,
        uint40 executableAt,
        address indexed authority
    );
    /// @notice A pending recovery was cancelled, or ended by a hand-over.
    /// @param subjectId pseudonymous id
    /// @param by the controller (also when its hand-over ended it), the identity authority that
    /// started it, or the governance caller
    event RecoveryCancelled(bytes32 indexed subjectId, address indexed by);
    /// @notice Every signature the subject's controller had made and not yet used died: the
    /// controller invalidated them, or control moved to another key.
    /// @param subjectId pseudonymous id
    /// @param newNonce the new signature epoch (`Subject.nonce`)
    event NonceInvalidated(bytes32 indexed subjectId, uint48 newNonce);
    /// @notice The recovery delay changed.
    /// @param delay seconds
    event RecoveryDelaySet(uint32 delay);

    /// @notice Registers a subject. Caller: an active identity-authority member.
    function registerSubject(bytes32 subjectId, address controller) external;

    /// @notice Registers several subjects. Caller: an active identity-authority member.
    function registerSubjects(bytes32[] calldata subjectIds, address[] calldata controllers) external;

    /// @notice Hands control to `newController`, invalidates the outstanding signatures of the
    /// previous key and cancels any pending recovery (`RecoveryCancelled` by the controller).
    /// Caller: the controller.
    function transferControl(bytes32 subjectId, address newController) external;

    /// @notice Starts a recovery to `newController`, or replaces the caller's own pending one (the
    /// delay starts again). Caller: an active identity-authority member; reverts
    /// `RecoveryAlreadyPending` while another authority's recovery is pending.
    function initiateRecovery(bytes32 subjectId, address newController) external;

    /// @notice Cancels a pending recovery. Caller: the controller, or the identity authority that
    /// started it while it is active.
    function cancelRecovery(bytes32 subjectId) external;

    /// @notice Cancels any pending recovery, e.g. one a compromised or suspended authority started.
    /// Governed (REGULATOR), immediate: it must beat the recovery delay.
    function cancelRecoveryByGovernance(bytes32 subjectId) external;

    /// @notice Completes a recovery whose delay has passed, if the identity authority that started it
    /// is still active. Anyone may call.
    function completeRecovery(bytes32 subjectId) external;

    /// @notice Invalidates every outstanding signature of the controller by moving the signature
    /// epoch on. Caller: the controller.
    function invalidateNonce(bytes32 subjectId) external;

    /// @notice Sets the recovery delay. Governed (OPERATOR).
    function setRecoveryDelay(uint32 delay) external;

    /// @notice The stored subject (controller 0 if unregistered).
    function getSubject(bytes32 subjectId) external view returns (Subject memory);

    /// @notice The controller of a subject (0 if unregistered).
    function controllerOf(bytes32 subjectId) external view returns (address);

    /// @notice The pending recovery of a subject (newController 0 if none).
    function pendingRecovery(bytes32 subjectId) external view returns (Recovery memory);

    /// @notice Seconds between the start of a recovery and its completion.
    function recoveryDelay() external view returns (uint32);
}
