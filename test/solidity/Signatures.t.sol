// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DataSafe} from "../../contracts/DataSafe.sol";
import {AccessRequest, Authorization, GrantKey, GrantScope, GrantTerms} from "../../contracts/Common.sol";
import {IConsentManager} from "../../contracts/interfaces/IConsentManager.sol";
import {IDataCatalog} from "../../contracts/interfaces/IDataCatalog.sol";

import {Base} from "./Base.sol";

/// @dev Invariant 2 of ARCHITECTURE.md §4, signature path: only the current controller's EIP-712
/// signature acts, once, before its deadline, on this deployment.
contract SignatureFuzzTest is Base {
    bytes32 internal assetId;
    AccessRequest internal openRequest;
    GrantKey internal grantKey;

    function setUp() public override {
        super.setUp();
        (assetId, ) = _issue(publicSecurity, ALICE, ID_CARD, "alice-id-card", 0);
        openRequest = _request(bank, ALICE, GrantScope.Asset, assetId, PURPOSE_LOAN);
        grantKey = GrantKey(ALICE, school, GrantScope.Asset, assetId, PURPOSE_ENROLMENT);
        _directGrant(alice, ALICE, school, GrantScope.Asset, assetId, PURPOSE_ENROLMENT, uint40(START + 9 days), 1);
    }

    function _privateKey(uint256 seed) internal pure returns (uint256) {
        return _bound(seed, 1, SECP256K1_N - 1);
    }

    function _terms(uint16 purpose, uint32 maxReads) internal view returns (GrantTerms memory) {
        return
            GrantTerms(
                ALICE,
                _one(employer),
                GrantScope.Asset,
                _one(assetId),
                0,
                purpose,
                uint40(block.timestamp + 3 days),
                maxReads
            );
    }

    function _invalidSignature() internal view returns (bytes memory) {
        return abi.encodeWithSelector(IConsentManager.InvalidSignature.selector, ALICE, alice);
    }

    // ------------------------------------------------------------------ a key that is not the controller

    function testFuzz_approveRequestBySig_rejectsNonControllerKey(uint256 keySeed, address relayer) public {
        uint256 pk = _privateKey(keySeed);
        vm.assume(vm.addr(pk) != alice);
        AccessRequest memory request = openRequest;
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(pk, _approveDigest(dataSafe, request, 0, deadline), 0, deadline);
        vm.expectRevert(_invalidSignature());
        vm.prank(relayer);
        dataSafe.approveRequestBySig(request, auth);
        assertTrue(!dataSafe.isNonceUsed(ALICE, 0), "nonce consumed by a refused signature");
    }

    function testFuzz_grantBySig_rejectsNonControllerKey(uint256 keySeed, address relayer, uint32 maxReads) public {
        uint256 pk = _privateKey(keySeed);
        vm.assume(vm.addr(pk) != alice);
        GrantTerms memory terms = _terms(PURPOSE_LOAN, uint32(_bound(maxReads, 1, type(uint32).max)));
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(pk, _grantDigest(dataSafe, terms, 0, deadline), 0, deadline);
        vm.expectRevert(_invalidSignature());
        vm.prank(relayer);
        dataSafe.grantBySig(terms, auth);
    }

    function testFuzz_revokeBySig_rejectsNonControllerKey(uint256 keySeed, address relayer) public {
        uint256 pk = _privateKey(keySeed);
        vm.assume(vm.addr(pk) != alice);
        GrantKey memory key = grantKey;
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(pk, _revokeDigest(dataSafe, key, 1, 0, deadline), 0, deadline);
        vm.expectRevert(_invalidSignature());
        vm.prank(relayer);
        dataSafe.revokeBySig(key, 1, auth);
    }

    /// @dev Garbage bytes as a signature never pass either (and never revert with anything else).
    function testFuzz_grantBySig_rejectsArbitrarySignatureBytes(bytes memory signature) public {
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 1);
        uint256 deadline = block.timestamp + 1 hours;
        vm.expectRevert(_invalidSignature());
        dataSafe.grantBySig(terms, Authorization(0, deadline, signature));
    }

    // ------------------------------------------------------------------ the controller's key

    /// @dev The controller's signature works once, for anyone relaying it, and never again.
    function testFuzz_grantBySig_controllerSignatureUsableOnce(address relayer, uint256 deadlineSeed) public {
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 2);
        uint256 deadline = _bound(deadlineSeed, block.timestamp, type(uint256).max);
        Authorization memory auth = _auth(ALICE_PK, _grantDigest(dataSafe, terms, 0, deadline), 0, deadline);
        vm.prank(relayer);
        bytes32[] memory ids = dataSafe.grantBySig(terms, auth);
        assertEq(dataSafe.getGrant(ids[0]).maxReads, 2, "grant issued");
        assertTrue(dataSafe.isNonceUsed(ALICE, 0), "nonce consumed");
        assertEq(dataSafe.getSubject(ALICE).nonce, 0, "the epoch stays");
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceUsed.selector, ALICE, 0));
        vm.prank(relayer);
        dataSafe.grantBySig(terms, auth);
    }

    function testFuzz_grantBySig_rejectsAfterDeadline(uint256 deadlineSeed, uint256 lateBy) public {
        uint256 deadline = _bound(deadlineSeed, block.timestamp, block.timestamp + 365 days);
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 1);
        Authorization memory auth = _auth(ALICE_PK, _grantDigest(dataSafe, terms, 0, deadline), 0, deadline);
        vm.warp(deadline + _bound(lateBy, 1, 365 days));
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.SignatureExpired.selector, deadline));
        dataSafe.grantBySig(terms, auth);
    }

    /// @dev Any index of the current epoch works, once; a nonce of another epoch never does.
    function testFuzz_grantBySig_anyIndexOfTheEpoch(uint256 index, uint256 otherEpoch) public {
        index = _bound(index, 0, (1 << 208) - 1);
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 1);
        uint256 deadline = block.timestamp + 1 hours;
        uint256 foreign = _nonce(_bound(otherEpoch, 1, type(uint48).max), index);
        Authorization memory stale = _auth(
            ALICE_PK,
            _grantDigest(dataSafe, terms, foreign, deadline),
            foreign,
            deadline
        );
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceEpochMismatch.selector, ALICE, foreign, 0));
        dataSafe.grantBySig(terms, stale);
        Authorization memory auth = _auth(ALICE_PK, _grantDigest(dataSafe, terms, index, deadline), index, deadline);
        assertTrue(!dataSafe.isNonceUsed(ALICE, index), "unused before");
        dataSafe.grantBySig(terms, auth);
        assertTrue(dataSafe.isNonceUsed(ALICE, index), "used after");
        assertEq(dataSafe.nonceBitmap(ALICE, index >> 8), 1 << (index & 0xff), "one bit of its word");
    }

    /// @dev A signature over other terms than those submitted recovers another signer.
    function testFuzz_grantBySig_rejectsAlteredTerms(uint32 maxReads, uint16 purpose) public {
        vm.assume(maxReads != 1 || purpose != PURPOSE_LOAN);
        GrantTerms memory signed = _terms(PURPOSE_LOAN, 1);
        GrantTerms memory submitted = _terms(purpose, maxReads);
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(ALICE_PK, _grantDigest(dataSafe, signed, 0, deadline), 0, deadline);
        vm.expectRevert(_invalidSignature());
        dataSafe.grantBySig(submitted, auth);
    }

    /// @dev `invalidateNonce` kills every outstanding signature.
    function test_approveRequestBySig_afterInvalidateNonceReverts() public {
        AccessRequest memory request = openRequest;
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(ALICE_PK, _approveDigest(dataSafe, request, 0, deadline), 0, deadline);
        vm.prank(alice);
        dataSafe.invalidateNonce(ALICE);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.NonceEpochMismatch.selector, ALICE, 0, 1));
        dataSafe.approveRequestBySig(request, auth);
    }

    /// @dev A rotated-away key's signatures die with it, even at the current nonce.
    function testFuzz_approveRequestBySig_rotatedKeyRejected(uint256 newKeySeed) public {
        uint256 newPk = _privateKey(newKeySeed);
        address next = vm.addr(newPk);
        vm.assume(next != alice);
        vm.prank(alice);
        dataSafe.transferControl(ALICE, next);
        AccessRequest memory request = openRequest;
        uint256 deadline = block.timestamp + 1 hours;
        // The hand-over moved the epoch to 1; the old key signs in it and is still refused.
        uint256 nonce = _nonce(1, 0);
        Authorization memory old = _auth(ALICE_PK, _approveDigest(dataSafe, request, nonce, deadline), nonce, deadline);
        vm.expectRevert(abi.encodeWithSelector(IConsentManager.InvalidSignature.selector, ALICE, next));
        dataSafe.approveRequestBySig(request, old);
        Authorization memory current = _auth(
            newPk,
            _approveDigest(dataSafe, request, nonce, deadline),
            nonce,
            deadline
        );
        bytes32[] memory ids = dataSafe.approveRequestBySig(request, current);
        assertEq(ids.length, 1, "approved by the new key");
    }

    /// @dev A signature made for another deployment (other verifying contract) is refused here.
    function test_grantBySig_otherDeploymentSignatureReverts() public {
        DataSafe other = new DataSafe(address(manager), IDataCatalog(address(catalog)), RECOVERY_DELAY);
        assertTrue(other.domainSeparator() != dataSafe.domainSeparator(), "domains differ");
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 1);
        uint256 deadline = block.timestamp + 1 hours;
        Authorization memory auth = _auth(ALICE_PK, _grantDigest(other, terms, 0, deadline), 0, deadline);
        vm.expectRevert(_invalidSignature());
        dataSafe.grantBySig(terms, auth);
    }

    /// @dev The EIP-712 domain of a DataSafe at `verifyingContract` on `chainId`.
    function _domain(uint256 chainId, address verifyingContract) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                    keccak256("DataSafe"),
                    keccak256("1"),
                    chainId,
                    verifyingContract
                )
            );
    }

    /// @dev A signature made for this deployment's address on another chain is refused here.
    function testFuzz_grantBySig_otherChainSignatureReverts(uint256 otherChain) public {
        assertEq(_domain(block.chainid, address(dataSafe)), dataSafe.domainSeparator(), "domain recomputed");
        vm.assume(otherChain != block.chainid);
        GrantTerms memory terms = _terms(PURPOSE_LOAN, 1);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                dataSafe.GRANT_TYPEHASH(),
                terms.subjectId,
                keccak256(abi.encodePacked(terms.consumers)),
                terms.scope,
                keccak256(abi.encodePacked(terms.targets)),
                terms.fields,
                terms.purpose,
                terms.expiresAt,
                terms.maxReads,
                uint256(0),
                deadline
            )
        );
        bytes32 foreignDigest = keccak256(
            abi.encodePacked("\x19\x01", _domain(otherChain, address(dataSafe)), structHash)
        );
        Authorization memory foreign = Authorization(0, deadline, _sign(ALICE_PK, foreignDigest));
        vm.expectRevert(_invalidSignature());
        dataSafe.grantBySig(terms, foreign);
    }
}
