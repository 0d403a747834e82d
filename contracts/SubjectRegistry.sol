// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MemberKind} from "./Common.sol";
import {ISubjectRegistry} from "./interfaces/ISubjectRegistry.sol";
import {MemberDirectory} from "./MemberDirectory.sol";

/// @title Subject registry
/// @notice See {ISubjectRegistry}.
/// @dev A subject is one storage slot (controller, registration time, signature epoch and the
/// epoch's first eight nonces), so every act for a subject checks its controller with one read,
/// and a signed act using one of those nonces marks it in the slot it has just read.
abstract contract SubjectRegistry is ISubjectRegistry, MemberDirectory {
    /// @notice The longest recovery delay governance may set.
    uint32 public constant MAX_RECOVERY_DELAY = 90 days;

    mapping(bytes32 subjectId => Subject subject) private _subjects;
    mapping(bytes32 subjectId => Recovery recovery) private _recoveries;
    uint32 private _recoveryDelay;

    constructor(uint32 initialRecoveryDelay) {
        _setRecoveryDelay(initialRecoveryDelay);
    }

    /// @inheritdoc ISubjectRegistry
    function registerSubject(bytes32 subjectId, address controller) external {
        address authority = _msgSender();
        _requireActiveMember(authority, MemberKind.IdentityAuthority);
        _registerSubject(subjectId, controller, authority);
    }

    /// @inheritdoc ISubjectRegistry
    function registerSubjects(bytes32[] calldata subjectIds, address[] calldata controllers) external {
        address authority = _msgSender();
        _requireActiveMember(authority, MemberKind.IdentityAuthority);
        uint256 count = subjectIds.length;
        if (count == 0 || count != controllers.length) revert InvalidSubject(0, address(0));
        for (uint256 i; i < count; ++i) {
            _registerSubject(subjectIds[i], controllers[i], authority);
        }
    }

    /// @inheritdoc ISubjectRegistry
    function transferControl(bytes32 subjectId, address newController) external {
        address controller = _msgSender();
        Subject storage subject = _controlledSubject(subjectId, controller);
        if (newController == address(0)) revert InvalidSubject(subjectId, newController);
        // The holder chose its key: a recovery started earlier must not override that choice.
        if (_recoveries[subjectId].newController != address(0)) _cancelRecovery(subjectId, controller);
        _changeController(subjectId, subject, newController, controller);
    }

    /// @inheritdoc ISubjectRegistry
    function initiateRecovery(bytes32 subjectId, address newController) external {
        address authority = _msgSender();
        _requireActiveMember(authority, MemberKind.IdentityAuthority);
        _existingSubject(subjectId);
        if (newController == address(0)) revert InvalidSubject(subjectId, newController);
        Recovery storage pending = _recoveries[subjectId];
        // Only the authority that started a pending recovery may replace it (a typo in the key, say);
        // another authority waits until it is cancelled, so none can hijack another's recovery.
        if (pending.newController != address(0)) {
            address pendingAuthority = pending.authority;
            if (pendingAuthority != authority) revert RecoveryAlreadyPending(subjectId, pendingAuthority);
        }
        uint40 executableAt = uint40(block.timestamp) + _recoveryDelay;
        _recoveries[subjectId] = Recovery(newController, executableAt, authority);
        emit RecoveryInitiated(subjectId, newController, executableAt, authority);
    }

    /// @inheritdoc ISubjectRegistry
    function cancelRecovery(bytes32 subjectId) external {
        address caller = _msgSender();
        Recovery storage recovery = _recoveries[subjectId];
        if (recovery.newController == address(0)) revert NoPendingRecovery(subjectId);
        // A pending recovery exists only for a registered subject: its controller is set.
        if (_subjects[subjectId].controller != caller) {
            if (recovery.authority != caller) revert NotRecoveryAuthority(subjectId, caller);
            _requireActiveMember(caller, MemberKind.IdentityAuthority);
        }
        _cancelRecovery(subjectId, caller);
    }

    /// @inheritdoc ISubjectRegistry
    function cancelRecoveryByGovernance(bytes32 subjectId) external restricted {
        if (_recoveries[subjectId].newController == address(0)) revert NoPendingRecovery(subjectId);
        _cancelRecovery(subjectId, _msgSender());
    }

    /// @inheritdoc ISubjectRegistry
    function completeRecovery(bytes32 subjectId) external {
        Recovery memory recovery = _recoveries[subjectId];
        if (recovery.newController == address(0)) revert NoPendingRecovery(subjectId);
        if (block.timestamp < recovery.executableAt) revert RecoveryNotReady(subjectId, recovery.executableAt);
        // An authority suspended while its recovery waited (compromised, say) cannot complete it.
        _requireActiveMember(recovery.authority, MemberKind.IdentityAuthority);
        delete _recoveries[subjectId];
        _changeController(subjectId, _subjects[subjectId], recovery.newController, _msgSender());
    }

    /// @inheritdoc ISubjectRegistry
    function invalidateNonce(bytes32 subjectId) external {
        emit NonceInvalidated(subjectId, _bumpNonce(_controlledSubject(subjectId, _msgSender())));
    }

    /// @inheritdoc ISubjectRegistry
    function setRecoveryDelay(uint32 delay) external restricted {
        _setRecoveryDelay(delay);
    }

    /// @inheritdoc ISubjectRegistry
    function getSubject(bytes32 subjectId) external view returns (Subject memory) {
        return _subjects[subjectId];
    }

    /// @inheritdoc ISubjectRegistry
    function controllerOf(bytes32 subjectId) external view returns (address) {
        return _subjects[subjectId].controller;
    }

    /// @inheritdoc ISubjectRegistry
    function pendingRecovery(bytes32 subjectId) external view returns (Recovery memory) {
        return _recoveries[subjectId];
    }

    /// @inheritdoc ISubjectRegistry
    function recoveryDelay() external view returns (uint32) {
        return _recoveryDelay;
    }

    /// @dev The subject, reverting unless `account` controls it.
    function _controlledSubject(bytes32 subjectId, address account) internal view returns (Subject storage subject) {
        subject = _subjects[subjectId];
        if (subject.controller != account) {
            if (subject.controller == address(0)) revert SubjectNotRegistered(subjectId);
            revert NotSubjectController(subjectId, account);
        }
    }

    /// @dev The subject, reverting if it is not registered.
    function _existingSubject(bytes32 subjectId) internal view returns (Subject storage subject) {
        subject = _subjects[subjectId];
        if (subject.controller == address(0)) revert SubjectNotRegistered(subjectId);
    }

    /// @dev Moves control to `newController` and invalidates the signatures the previous key made
    /// and nobody has used, so they stay dead even if control later comes back to that key. The
    /// nonce shares the controller's slot: no extra storage write.
    function _changeController(bytes32 subjectId, Subject storage subject, address newController, address by) private {
        address previous = subject.controller;
        subject.controller = newController;
        uint48 nonce = _bumpNonce(subject);
        emit ControllerChanged(subjectId, previous, newController, by);
        emit NonceInvalidated(subjectId, nonce);
    }

    /// @dev Moves the subject's signature epoch on, which kills every signature made in the old
    /// one: signed nonces carry their epoch. The new epoch's nonces are all unused.
    function _bumpNonce(Subject storage subject) private returns (uint48 nonce) {
        nonce = subject.nonce + 1;
        (subject.nonce, subject.usedNonces) = (nonce, 0);
    }

    function _cancelRecovery(bytes32 subjectId, address by) private {
        delete _recoveries[subjectId];
        emit RecoveryCancelled(subjectId, by);
    }

    function _registerSubject(bytes32 subjectId, address controller, address authority) private {
        if (subjectId == 0 || controller == address(0)) revert InvalidSubject(subjectId, controller);
        Subject storage subject = _subjects[subjectId];
        if (subject.controller != address(0)) revert SubjectAlreadyRegistered(subjectId);
        subject.controller = controller;
        subject.registeredAt = uint40(block.timestamp);
        emit SubjectRegistered(subjectId, controller, authority);
    }

    function _setRecoveryDelay(uint32 delay) private {
        if (delay > MAX_RECOVERY_DELAY) revert InvalidRecoveryDelay(delay);
        _recoveryDelay = delay;
        emit RecoveryDelaySet(delay);
    }
}
