// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessRequest, GrantKey, GrantScope, GrantTerms, MemberKind} from "../../contracts/Common.sol";
import {IMemberDirectory} from "../../contracts/interfaces/IMemberDirectory.sol";
import {ISubjectRegistry} from "../../contracts/interfaces/ISubjectRegistry.sol";

import {Base} from "./Base.sol";

/// @dev Invariant 2 of ARCHITECTURE.md §4, transaction path: only the current controller acts for
/// a subject, and a rotated-away or recovered-away key loses all power at once.
contract SubjectControlFuzzTest is Base {
    bytes32 internal assetId;
    GrantKey internal grantKey;
    AccessRequest internal openRequest;

    function setUp() public override {
        super.setUp();
        (assetId, ) = _issue(publicSecurity, ALICE, HOUSEHOLD_REGISTER, "alice-register", 0);
        grantKey = GrantKey(ALICE, bank, GrantScope.Asset, assetId, PURPOSE_LOAN);
        _directGrant(alice, ALICE, bank, GrantScope.Asset, assetId, PURPOSE_LOAN, uint40(START + 30 days), 2);
        openRequest = _request(
            school,
            ALICE,
            GrantScope.DataType,
            _typeTarget(publicSecurity, HOUSEHOLD_REGISTER),
            PURPOSE_ENROLMENT
        );
    }

    /// @dev Anyone but Alice's controller: other controllers, members, governance, the admin, or random.
    function _notController(uint256 seed, address stranger) internal view returns (address caller) {
        address[8] memory cast = [
            bob,
            carol,
            bank,
            identityAuthority,
            publicSecurity,
            regulator,
            address(this),
            stranger
        ];
        caller = cast[seed % cast.length];
        vm.assume(caller != alice);
    }

    function _notControllerError(address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISubjectRegistry.NotSubjectController.selector, ALICE, caller);
    }

    function _terms() internal view returns (GrantTerms memory) {
        return
            GrantTerms(
                ALICE,
                _one(employer),
                GrantScope.Asset,
                _one(assetId),
                0,
                PURPOSE_LOAN,
                uint40(block.timestamp + 1 days),
                1
            );
    }

    function testFuzz_transferControl_revertsForNonController(
        uint256 seed,
        address stranger,
        address newController
    ) public {
        address caller = _notController(seed, stranger);
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.transferControl(ALICE, newController);
        assertEq(dataSafe.controllerOf(ALICE), alice, "controller changed");
    }

    function testFuzz_grant_revertsForNonController(uint256 seed, address stranger) public {
        address caller = _notController(seed, stranger);
        GrantTerms memory terms = _terms();
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.grant(terms);
    }

    function testFuzz_revoke_revertsForNonController(uint256 seed, address stranger) public {
        address caller = _notController(seed, stranger);
        GrantKey memory key = grantKey;
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.revoke(key);
        assertEq(uint8(dataSafe.getGrant(_grantId(key)).status), 1, "grant no longer active");
    }

    function testFuzz_approveRequest_revertsForNonController(uint256 seed, address stranger) public {
        address caller = _notController(seed, stranger);
        AccessRequest memory request = openRequest;
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.approveRequest(request);
        assertEq(uint8(dataSafe.getRequestStatus(_requestId(request))), 1, "request no longer open");
    }

    function testFuzz_rejectRequest_revertsForNonController(uint256 seed, address stranger, uint16 reason) public {
        address caller = _notController(seed, stranger);
        AccessRequest memory request = openRequest;
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.rejectRequest(request, reason);
    }

    function testFuzz_invalidateNonce_revertsForNonController(uint256 seed, address stranger) public {
        address caller = _notController(seed, stranger);
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.invalidateNonce(ALICE);
        assertEq(dataSafe.getSubject(ALICE).nonce, 0, "nonce moved");
    }

    function testFuzz_requestReturn_revertsForNonController(uint256 seed, address stranger) public {
        address caller = _notController(seed, stranger);
        vm.expectRevert(_notControllerError(caller));
        vm.prank(caller);
        dataSafe.requestReturn(ALICE, ID_CARD, publicSecurity);
    }

    /// @dev After `transferControl`, the old key is refused everywhere and the new key has full power.
    function testFuzz_transferControl_oldKeyLosesPower(uint256 newKeySeed, uint256 action) public {
        address next = vm.addr(_bound(newKeySeed, 1, SECP256K1_N - 1));
        vm.assume(next != alice);
        vm.prank(alice);
        dataSafe.transferControl(ALICE, next);
        _assertRefusedEverywhere(alice, action);
        // the new key acts
        GrantKey memory key = grantKey;
        vm.prank(next);
        dataSafe.revoke(key);
    }

    /// @dev After a completed recovery, the lost key is refused everywhere and the recovered key acts.
    function testFuzz_completeRecovery_oldKeyLosesPower(uint256 newKeySeed, uint256 lateBy, uint256 action) public {
        address next = vm.addr(_bound(newKeySeed, 1, SECP256K1_N - 1));
        vm.assume(next != alice);
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, next);
        uint40 executableAt = uint40(block.timestamp) + RECOVERY_DELAY;

        // before the delay: nobody completes it, and the current key still acts
        vm.warp(executableAt - 1);
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.RecoveryNotReady.selector, ALICE, executableAt));
        dataSafe.completeRecovery(ALICE);
        vm.prank(alice);
        dataSafe.invalidateNonce(ALICE);

        vm.warp(executableAt + _bound(lateBy, 0, 365 days));
        vm.prank(address(uint160(uint256(keccak256(abi.encode(lateBy))))));
        dataSafe.completeRecovery(ALICE);
        assertEq(dataSafe.controllerOf(ALICE), next, "recovered controller");
        assertEq(dataSafe.getSubject(ALICE).nonce, 2, "recovery bumps the nonce");
        _assertRefusedEverywhere(alice, action);
        vm.prank(next);
        dataSafe.invalidateNonce(ALICE);
    }

    /// @dev A recovery whose identity authority was suspended while it waited never completes;
    /// reinstated, the authority's recovery completes again.
    function testFuzz_completeRecovery_suspendedAuthorityReverts(uint256 newKeySeed, uint256 lateBy) public {
        address next = vm.addr(_bound(newKeySeed, 1, SECP256K1_N - 1));
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, next);
        vm.prank(regulator);
        dataSafe.suspendMember(identityAuthority, 11);
        vm.warp(block.timestamp + RECOVERY_DELAY + _bound(lateBy, 0, 365 days));
        vm.expectRevert(
            abi.encodeWithSelector(
                IMemberDirectory.MemberNotPermitted.selector,
                identityAuthority,
                MemberKind.IdentityAuthority
            )
        );
        dataSafe.completeRecovery(ALICE);
        assertEq(dataSafe.controllerOf(ALICE), alice, "controller kept");

        vm.prank(regulator);
        dataSafe.reinstateMember(identityAuthority);
        dataSafe.completeRecovery(ALICE);
        assertEq(dataSafe.controllerOf(ALICE), next, "recovered once the authority is active");
    }

    function testFuzz_cancelRecovery_byControllerStopsIt(uint256 newKeySeed, uint256 lateBy) public {
        address next = vm.addr(_bound(newKeySeed, 1, SECP256K1_N - 1));
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, next);
        vm.prank(alice);
        dataSafe.cancelRecovery(ALICE);
        vm.warp(block.timestamp + RECOVERY_DELAY + _bound(lateBy, 0, 365 days));
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.NoPendingRecovery.selector, ALICE));
        dataSafe.completeRecovery(ALICE);
        assertEq(dataSafe.controllerOf(ALICE), alice, "controller kept");
    }

    /// @dev A hand-over ends any pending recovery, whoever it names and however long anyone waits:
    /// the key the holder chose stays in control.
    function testFuzz_transferControl_endsPendingRecovery(
        uint256 recoverySeed,
        uint256 handOverSeed,
        uint256 lateBy
    ) public {
        address recoveryKey = vm.addr(_bound(recoverySeed, 1, SECP256K1_N - 1));
        address chosen = vm.addr(_bound(handOverSeed, 1, SECP256K1_N - 1));
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, recoveryKey);
        vm.warp(block.timestamp + _bound(lateBy, 0, RECOVERY_DELAY - 1));
        vm.prank(alice);
        dataSafe.transferControl(ALICE, chosen);
        assertEq(dataSafe.pendingRecovery(ALICE).newController, address(0), "recovery still pending");
        vm.warp(block.timestamp + RECOVERY_DELAY + _bound(lateBy, 0, 365 days));
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.NoPendingRecovery.selector, ALICE));
        dataSafe.completeRecovery(ALICE);
        assertEq(dataSafe.controllerOf(ALICE), chosen, "hand-over overridden");
    }

    /// @dev Only the controller or the authority that started a recovery cancels it by
    /// `cancelRecovery`; anyone else, another identity authority and governance role holders
    /// included, is refused and the recovery stays as it was.
    function testFuzz_cancelRecovery_refusesAllButControllerAndStarter(
        uint256 callerSeed,
        address stranger,
        uint256 newKeySeed
    ) public {
        address otherAuthority = _registerOtherAuthority();
        address next = vm.addr(_bound(newKeySeed, 1, SECP256K1_N - 1));
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, next);
        address[9] memory cast = [
            otherAuthority,
            bob,
            bank,
            publicSecurity,
            regulator,
            operator,
            address(this),
            next,
            stranger
        ];
        address caller = cast[callerSeed % cast.length];
        vm.assume(caller != alice && caller != identityAuthority);
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.NotRecoveryAuthority.selector, ALICE, caller));
        vm.prank(caller);
        dataSafe.cancelRecovery(ALICE);
        assertEq(dataSafe.pendingRecovery(ALICE).authority, identityAuthority, "recovery changed");
        // the starter can, and so can governance (checked in Governance.t.sol)
        vm.prank(identityAuthority);
        dataSafe.cancelRecovery(ALICE);
        assertEq(dataSafe.pendingRecovery(ALICE).newController, address(0), "starter could not cancel");
    }

    /// @dev Another identity authority cannot overwrite a pending recovery; the one that started it
    /// can, and the delay starts again.
    function testFuzz_initiateRecovery_otherAuthorityCannotOverwrite(
        uint256 firstSeed,
        uint256 secondSeed,
        uint256 laterBy
    ) public {
        address otherAuthority = _registerOtherAuthority();
        address first = vm.addr(_bound(firstSeed, 1, SECP256K1_N - 1));
        address second = vm.addr(_bound(secondSeed, 1, SECP256K1_N - 1));
        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, first);
        ISubjectRegistry.Recovery memory pending = dataSafe.pendingRecovery(ALICE);
        vm.warp(block.timestamp + _bound(laterBy, 0, 365 days));
        vm.expectRevert(
            abi.encodeWithSelector(ISubjectRegistry.RecoveryAlreadyPending.selector, ALICE, identityAuthority)
        );
        vm.prank(otherAuthority);
        dataSafe.initiateRecovery(ALICE, second);
        assertEq(dataSafe.pendingRecovery(ALICE).newController, pending.newController, "overwritten");
        assertEq(dataSafe.pendingRecovery(ALICE).executableAt, pending.executableAt, "delay changed");

        vm.prank(identityAuthority);
        dataSafe.initiateRecovery(ALICE, second);
        assertEq(dataSafe.pendingRecovery(ALICE).newController, second, "starter could not replace it");
        assertEq(dataSafe.pendingRecovery(ALICE).executableAt, block.timestamp + RECOVERY_DELAY, "delay restarts");
    }

    function _registerOtherAuthority() internal returns (address otherAuthority) {
        otherAuthority = address(0x1A02);
        vm.prank(memberAdmin);
        dataSafe.registerMember(otherAuthority, MemberKind.IdentityAuthority, "Second Identity Authority", "");
    }

    function _assertRefusedEverywhere(address oldKey, uint256 action) internal {
        bytes memory refused = _notControllerError(oldKey);
        uint256 which = action % 7;
        vm.expectRevert(refused);
        vm.prank(oldKey);
        if (which == 0) {
            dataSafe.transferControl(ALICE, oldKey);
        } else if (which == 1) {
            dataSafe.grant(_termsFor(employer));
        } else if (which == 2) {
            dataSafe.revoke(grantKey);
        } else if (which == 3) {
            dataSafe.approveRequest(openRequest);
        } else if (which == 4) {
            dataSafe.invalidateNonce(ALICE);
        } else if (which == 5) {
            dataSafe.requestReturn(ALICE, ID_CARD, publicSecurity);
        } else {
            dataSafe.rejectRequest(openRequest, 1);
        }
    }

    /// @dev Pure: builds terms without an external call, so a pending prank is not consumed.
    function _termsFor(address consumer) internal view returns (GrantTerms memory) {
        return
            GrantTerms(
                ALICE,
                _one(consumer),
                GrantScope.Asset,
                _one(assetId),
                0,
                PURPOSE_LOAN,
                uint40(START + 10 days),
                1
            );
    }

    function test_cancelReturnRequest_nonControllerReverts() public {
        vm.prank(alice);
        bytes32 requestId = dataSafe.requestReturn(ALICE, ID_CARD, publicSecurity);
        vm.expectRevert(_notControllerError(bob));
        vm.prank(bob);
        dataSafe.cancelReturnRequest(requestId);
    }
}
