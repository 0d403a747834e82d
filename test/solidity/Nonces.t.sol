// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {Authorization, GrantScope, GrantTerms} from "../../contracts/Common.sol";
import {IConsentManager} from "../../contracts/interfaces/IConsentManager.sol";
import {ISubjectRegistry} from "../../contracts/interfaces/ISubjectRegistry.sol";

import {Base} from "./Base.sol";

/// @dev Unordered nonces (invariant 2 of ARCHITECTURE.md §4, signature path): any number of
/// outstanding signatures relay in any order, each once; a hand-over, a recovery or an
/// `invalidateNonce` kills every outstanding one, even if control later comes back to the key
/// that made them; the holder cancels one nonce or a word of them.
contract NonceFuzzTest is Base {
    uint256 internal constant MAX_SIGNED = 12;
    uint256 internal constant NEW_KEY_PK = 0x5EED;
    uint16 internal constant FIRST_PURPOSE = 100;

    bytes32 internal assetId;
    uint256 internal deadline;

    function setUp() public override {
        super.setUp();
        (assetId, ) = _issue(publicSecurity, ALICE, ID_CARD, "alice-id-card", 0);
        deadline = block.timestamp + 30 days;
    }

    /// @dev Grant `i`: the employer, Alice's ID card, purpose FIRST_PURPOSE + i.
    function _terms(uint256 i) internal view returns (GrantTerms memory) {
        return
            GrantTerms(
                ALICE,
                _one(employer),
                GrantScope.Asset,
                _one(assetId),
                0,
                uint16(FIRST_PURPOSE + i),
                uint40(START + 60 days),
                1
            );
    }

    /// @dev `count` distinct nonce indices of three kinds: in Alice's slot (0-7), in the epoch's first
    /// word (8-255) and far away in other words.
    function _indices(uint256 seed, uint256 count) internal pure returns (uint256[] memory indices) {
        indices = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 kind = uint256(keccak256(abi.encode(seed, "kind", i))) % 3;
            uint256 far = (uint256(keccak256(abi.encode(seed, "word", i))) % (1 << 40)) + 1;
            indices[i] =
                kind == 0 && i < 8
                    ? i
                    : kind == 1
                        ? 8 + i
                        : (far << 8) | i;
        }
    }

    /// @dev Alice's key signs grant `i` with `nonce`.
    function _signed(uint256 i, uint256 nonce) internal view returns (Authorization memory) {
        return _auth(ALICE_PK, _grantDigest(dataSafe, _terms(i), nonce, deadline), nonce, deadline);
    }

    /// @dev A permutation of 0..count-1 (Fisher-Yates from `seed`).
    function _order(uint256 seed, uint256 count) internal pure returns (uint256[] memory order) {
        order = new uint256[](count);
        for (uint256 i; i < count; ++i) order[i] = i;
        for (uint256 i = count; i > 1; --i) {
            uint256 j = uint256(keccak256(abi.encode(seed, "order", i))) % i;
            (order[i - 1], order[j]) = (order[j], order[i - 1]);
        }
    }

    function _grantOf(uint256 i) internal view returns (IConsentManager.Grant memory) {
        return dataSafe.getGrant(keccak256(abi.encode(ALICE, employer, GrantScope.Asset, assetId, FIRST_PURPOSE + i)));
    }

    /// @dev Every signature relays once, in any order, by anyone; none twice.
    function testFuzz_signedGrants_relayInAnyOrder_eachOnce(uint256 seed, uint256 countSeed, address relayer) public {
        uint256 count = _bound(countSeed, 2, MAX_SIGNED);
        uint256[] memory indices = _indices(seed, count);
        Authorization[] memory auths = new Authorization[](count);
        for (uint256 i; i < count; ++i) auths[i] = _signed(i, indices[i]);

        uint256[] memory order = _order(seed, count);
        for (uint256 k; k < count; ++k) {
            uint256 i = order[k];
            assertTrue(!dataSafe.isNonceUsed(ALICE, indices[i]), "unused before its relay");
            vm.prank(relayer);
            dataSafe.grantBySig(_terms(i), auths[i]);
            assertEq(_grantOf(i).version, 1, "granted once");
            assertTrue(dataSafe.isNonceUsed(ALICE, indices[i]), "used after its relay");
            uint256 word = dataSafe.nonceBitmap(ALICE, indices[i] >> 8);
            assertTrue(word & (1 << (indices[i] & 0xff)) != 0, "its bit is set");
        }
        for (uint256 i; i < count; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceUsed.selector, ALICE, indices[i]));
            vm.prank(relayer);
            dataSafe.grantBySig(_terms(i), auths[i]);
            assertEq(_grantOf(i).version, 1, "never granted twice");
        }
        assertEq(dataSafe.getSubject(ALICE).nonce, 0, "signed acts leave the epoch");
        assertTrue(!dataSafe.isNonceUsed(ALICE, 7 + MAX_SIGNED + 8), "a nonce never signed stays unused");
    }

    /// @dev A hand-over, a completed recovery or `invalidateNonce` kills every outstanding signature,
    /// and control coming back to the old key does not revive them.
    function testFuzz_epochChange_killsEveryOutstandingSignature(
        uint256 seed,
        uint256 countSeed,
        uint256 relayedSeed,
        uint8 how
    ) public {
        uint256 count = _bound(countSeed, 1, MAX_SIGNED);
        uint256 relayed = _bound(relayedSeed, 0, count - 1);
        uint256[] memory indices = _indices(seed, count);
        uint256[] memory order = _order(seed, count);
        Authorization[] memory auths = new Authorization[](count);
        for (uint256 i; i < count; ++i) auths[i] = _signed(i, indices[i]);
        for (uint256 k; k < relayed; ++k) dataSafe.grantBySig(_terms(order[k]), auths[order[k]]);

        address newKey = vm.addr(NEW_KEY_PK);
        uint256 way = how % 3;
        if (way == 0) {
            vm.prank(alice);
            dataSafe.transferControl(ALICE, newKey);
        } else if (way == 1) {
            vm.prank(identityAuthority);
            dataSafe.initiateRecovery(ALICE, newKey);
            vm.warp(block.timestamp + RECOVERY_DELAY);
            dataSafe.completeRecovery(ALICE);
        } else {
            vm.prank(alice);
            dataSafe.invalidateNonce(ALICE);
        }
        assertEq(dataSafe.getSubject(ALICE).nonce, 1, "the epoch moved on");
        _expectAllDead(count, indices, auths, 1);

        if (way != 2) {
            // control comes back to Alice's key: its old signatures stay dead
            vm.prank(newKey);
            dataSafe.transferControl(ALICE, alice);
            assertEq(dataSafe.getSubject(ALICE).nonce, 2, "a second hand-over, a second epoch");
            _expectAllDead(count, indices, auths, 2);
        }
        // the current controller signs in the current epoch, with the same index
        uint256 epoch = dataSafe.getSubject(ALICE).nonce;
        uint256 nonce = _nonce(epoch, indices[0]);
        Authorization memory fresh = _auth(
            ALICE_PK,
            _grantDigest(dataSafe, _terms(0), nonce, deadline),
            nonce,
            deadline
        );
        dataSafe.grantBySig(_terms(0), fresh);
        assertTrue(dataSafe.isNonceUsed(ALICE, nonce), "the new epoch's nonce is used");
    }

    function _expectAllDead(
        uint256 count,
        uint256[] memory indices,
        Authorization[] memory auths,
        uint48 epoch
    ) internal {
        for (uint256 i; i < count; ++i) {
            uint32 versionBefore = _grantOf(i).version;
            assertTrue(dataSafe.isNonceUsed(ALICE, indices[i]), "an earlier epoch's nonce is unusable");
            vm.expectRevert(
                abi.encodeWithSelector(IConsentManager.NonceEpochMismatch.selector, ALICE, indices[i], epoch)
            );
            dataSafe.grantBySig(_terms(i), auths[i]);
            assertEq(_grantOf(i).version, versionBefore, "nothing granted");
        }
    }

    /// @dev The controller cancels one nonce (its signature dies, its neighbours live) or a whole
    /// word (all 256 die); nobody else can cancel.
    function testFuzz_cancelNonces_oneOrAWord(
        uint256 index,
        uint256 otherSeed,
        bool wholeWord,
        address stranger
    ) public {
        vm.assume(stranger != alice);
        index = _bound(index, 0, (1 << 100) - 1);
        uint256 wordPos = index >> 8;
        uint256 other = (wordPos << 8) | ((index + 1 + _bound(otherSeed, 0, 254)) & 0xff);
        uint256 mask = wholeWord ? type(uint256).max : 1 << (index & 0xff);

        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.NotSubjectController.selector, ALICE, stranger));
        vm.prank(stranger);
        dataSafe.cancelNonces(ALICE, wordPos, mask);
        assertTrue(!dataSafe.isNonceUsed(ALICE, index), "a stranger cancelled nothing");

        Authorization memory doomed = _signed(0, index);
        Authorization memory neighbour = _signed(1, other);
        vm.prank(alice);
        dataSafe.cancelNonces(ALICE, wordPos, mask);
        assertTrue(dataSafe.isNonceUsed(ALICE, index), "cancelled");
        assertEq(dataSafe.nonceBitmap(ALICE, wordPos), mask, "the word holds exactly the mask");
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceUsed.selector, ALICE, index));
        dataSafe.grantBySig(_terms(0), doomed);
        if (wholeWord) {
            vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceUsed.selector, ALICE, other));
            dataSafe.grantBySig(_terms(1), neighbour);
        } else {
            dataSafe.grantBySig(_terms(1), neighbour);
            assertEq(_grantOf(1).version, 1, "the neighbour's signature still works");
        }
    }

    /// @dev The epoch's first eight nonces live in the subject's slot, the rest in words; the
    /// first word's bitmap shows both.
    function test_nonceBitmap_slotAndFirstWordAgree() public {
        uint256[4] memory used = [uint256(0), 7, 8, 255];
        for (uint256 i; i < used.length; ++i) dataSafe.grantBySig(_terms(i), _signed(i, used[i]));
        assertEq(dataSafe.getSubject(ALICE).usedNonces, (1 << 0) | (1 << 7), "slot holds 0 and 7");
        assertEq(
            dataSafe.nonceBitmap(ALICE, 0),
            (1 << 0) | (1 << 7) | (1 << 8) | (1 << 255),
            "the first word shows all four"
        );
        vm.prank(alice);
        dataSafe.invalidateNonce(ALICE);
        assertEq(dataSafe.getSubject(ALICE).usedNonces, 0, "a new epoch starts unused");
        assertEq(dataSafe.nonceBitmap(ALICE, uint256(1) << 200), 0, "and so does its first word");
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.SubjectNotRegistered.selector, bytes32(0)));
        dataSafe.nonceBitmap(bytes32(0), 0);
    }
}
