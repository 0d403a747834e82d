// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {MemberKind} from "../../contracts/Common.sol";
import {IConsentManager} from "../../contracts/interfaces/IConsentManager.sol";

import {Base} from "./Base.sol";
import {ConsentHandler} from "./handlers/ConsentHandler.sol";

/// @dev Invariants 1 and 2 of ARCHITECTURE.md §4 under random sequences of issuing, requesting,
/// approving, granting, revoking, key rotation and recovery, suspension, time and reads (see
/// `ConsentHandler`). The fuzzer calls only the handler.
contract ConsentInvariantTest is Base {
    ConsentHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new ConsentHandler(
            dataSafe,
            regulator,
            operator,
            identityAuthority,
            [bank, school, employer],
            housingFund, // a department: a member, never a consumer
            [address(0), publicSecurity, publicSecurity, housingFund],
            [ALICE, BOB, CAROL],
            [ALICE_PK, BOB_PK, CAROL_PK]
        );
        vm.label(address(handler), "handler");
        handler.populate();

        bytes4[] memory selectors = new bytes4[](25);
        selectors[0] = ConsentHandler.issueAsset.selector;
        selectors[1] = ConsentHandler.revokeAsset.selector;
        selectors[2] = ConsentHandler.supersedeAsset.selector;
        selectors[3] = ConsentHandler.requestAccess.selector;
        selectors[4] = ConsentHandler.approveRequest.selector;
        selectors[5] = ConsentHandler.rejectRequest.selector;
        selectors[6] = ConsentHandler.grantDirect.selector;
        selectors[7] = ConsentHandler.revokeGrant.selector;
        selectors[8] = ConsentHandler.replaySignature.selector;
        selectors[9] = ConsentHandler.readUnderGrant.selector;
        selectors[10] = ConsentHandler.readAnything.selector;
        selectors[11] = ConsentHandler.rotateKey.selector;
        selectors[12] = ConsentHandler.invalidateNonce.selector;
        selectors[13] = ConsentHandler.initiateRecovery.selector;
        selectors[14] = ConsentHandler.completeRecovery.selector;
        selectors[15] = ConsentHandler.cancelRecovery.selector;
        selectors[16] = ConsentHandler.actWithOldKey.selector;
        selectors[17] = ConsentHandler.suspendConsumer.selector;
        selectors[18] = ConsentHandler.reinstateConsumer.selector;
        selectors[19] = ConsentHandler.warp.selector;
        selectors[20] = ConsentHandler.readUnderLiveGrant.selector;
        selectors[21] = ConsentHandler.toggleAuthority.selector;
        selectors[22] = ConsentHandler.signPending.selector;
        selectors[23] = ConsentHandler.relayPending.selector;
        selectors[24] = ConsentHandler.cancelPending.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector(address(handler), selectors));
    }

    /// @dev Every read the contract accepted, the model allowed (grant active, unexpired, not
    /// exhausted, for that consumer and that asset or its type; asset valid and the holder's;
    /// consumer active), and every read the model allowed, the contract accepted.
    function invariant_recordAccess_matchesModel() public view {
        assertEq(handler.ghostReadViolations(), 0, "read accepted against the model, or refused despite it");
    }

    /// @dev A refused read names the check that failed, in the documented order.
    function invariant_recordAccess_refusalNamesFailedCheck() public view {
        assertEq(handler.ghostReasonMismatches(), 0, "AccessDenied reason differs from the model");
    }

    /// @dev No grant version ever allows more reads than its maximum: the current ones, read from
    /// the contract now, and the replaced ones, read from the contract just before their renewal.
    function invariant_grantReads_neverExceedMaxReads() public view {
        uint256 count = handler.grantCount();
        for (uint256 i; i < count; ++i) {
            (bytes32 grantId, ) = handler.grantAt(i);
            IConsentManager.Grant memory grant = dataSafe.getGrant(grantId);
            assertLe(grant.reads, grant.maxReads, "grant read beyond its maximum");
        }
        assertEq(handler.ghostRetiredOverMax(), 0, "a replaced grant version was read beyond its maximum");
    }

    /// @dev Successful reads (each an `AccessRecorded`) equal the reads counted by the grants:
    /// the current versions' counters plus those of versions replaced by renewals.
    function invariant_recordedReads_equalSumOfGrantReads() public view {
        uint256 count = handler.grantCount();
        uint256 sum = handler.ghostRetiredReads();
        for (uint256 i; i < count; ++i) {
            (bytes32 grantId, ) = handler.grantAt(i);
            sum += dataSafe.getGrant(grantId).reads;
        }
        assertEq(handler.ghostReads(), sum, "recorded reads differ from the grants' read counters");
    }

    /// @dev A rotated-away or recovered-away key never acts for the subject again, by transaction
    /// or by signature, and no signature works twice.
    function invariant_oldKeys_neverAct() public view {
        assertEq(handler.ghostOldKeySuccesses(), 0, "an old key acted for its former subject");
        assertEq(handler.ghostReplaySuccesses(), 0, "a used signature worked again");
    }

    /// @dev Held-back signatures relay in any order, each at most once, and only in the epoch they
    /// were made in: after a hand-over, a recovery or an invalidation none works, even when control
    /// comes back to the key that made it. Every relay and cancellation had the model's outcome, and
    /// the contract's `isNonceUsed` is the model's for every held-back nonce.
    function invariant_signatures_usableOnceInAnyOrder() public view {
        assertEq(handler.ghostReplaySuccesses(), 0, "a used signature worked again");
        assertEq(handler.ghostStaleSignatureSuccesses(), 0, "a signature of an earlier epoch worked");
        assertEq(handler.ghostSignatureMismatches(), 0, "a relay or cancellation differs from the model");
        uint256 count = handler.pendingCount();
        for (uint256 i; i < count; ++i) {
            assertTrue(handler.pendingNonceMatches(i), "isNonceUsed differs from the model");
        }
    }

    /// @dev The held-back signature actions do what the invariant relies on: a relay works, its
    /// replay is refused, a hand-over kills the rest, a cancellation kills its signature.
    function test_handler_heldBackSignatures_relayOnceAndDieWithTheEpoch() public {
        // subject 0 signs three grants with fresh nonces; subject 1 one
        handler.signPending(0, 1, 0);
        handler.signPending(0, 2, 1);
        handler.signPending(0, 4, 2);
        handler.signPending(1, 1, 0);
        handler.relayPending(1); // out of order
        handler.relayPending(1); // a replay
        assertEq(handler.callsPendingRelayed(), 1, "relayed once");
        assertEq(handler.callsPendingRefused(), 1, "the replay refused");
        handler.cancelPending(3, false);
        handler.relayPending(3); // cancelled
        handler.rotateKey(0);
        handler.relayPending(0); // signed before the hand-over
        handler.relayPending(2);
        assertEq(handler.callsPendingRelayed(), 1, "nothing else relayed");
        assertEq(handler.callsPendingRefused(), 4, "cancelled and stale signatures refused");
        invariant_signatures_usableOnceInAnyOrder();
    }

    /// @dev A consumer the contract holds as not active (suspended) never records a read.
    function invariant_suspendedConsumer_neverReads() public view {
        assertEq(handler.ghostSuspendedReads(), 0, "a suspended consumer recorded a read");
    }

    /// @dev The handler's model is the contract's state: grants, controllers, nonces and member
    /// statuses agree, and every holder, issuer and regulator act had the outcome the model
    /// predicted. This keeps the model, and so the other invariants, honest.
    function invariant_model_matchesContract() public view {
        assertEq(handler.ghostOutcomeMismatches(), 0, "an act's outcome differs from the model");
        assertEq(handler.ghostModelDrift(), 0, "contract state drifted from the model");
        uint256 count = handler.grantCount();
        for (uint256 i; i < count; ++i) {
            (bytes32 grantId, ConsentHandler.GrantModel memory model) = handler.grantAt(i);
            IConsentManager.Grant memory grant = dataSafe.getGrant(grantId);
            assertEq(grantId, _grantId(model.key), "grant id is the hash of its key");
            assertEq(uint8(grant.status), model.active ? 1 : 2, "grant status");
            assertEq(grant.expiresAt, model.expiresAt, "grant expiry");
            assertEq(grant.maxReads, model.maxReads, "grant maxReads");
            assertEq(grant.reads, model.reads, "grant reads");
            assertEq(grant.version, model.version, "grant version");
        }
        for (uint256 s; s < 3; ++s) {
            ConsentHandler.SubjectModel memory subject = handler.subjectAt(s);
            assertEq(dataSafe.controllerOf(subject.id), subject.controller, "controller");
            assertEq(dataSafe.getSubject(subject.id).nonce, subject.nonce, "nonce");
            assertEq(
                dataSafe.pendingRecovery(subject.id).newController,
                subject.pendingKey == 0 ? address(0) : vm.addr(subject.pendingKey),
                "pending recovery"
            );
        }
        assertTrue(
            dataSafe.isActiveMember(identityAuthority, MemberKind.IdentityAuthority) != handler.authoritySuspended(),
            "identity authority status"
        );
        for (uint256 c; c < 3; ++c) {
            address consumer = handler.consumerAt(c);
            assertTrue(
                dataSafe.isActiveMember(consumer, MemberKind.Consumer) != handler.suspended(consumer),
                "consumer status"
            );
        }
    }
}
