// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {
    AccessCheck,
    AssetKey,
    AssetStatus,
    GrantKey,
    GrantScope,
    MemberKind,
    NewAsset
} from "../../contracts/Common.sol";
import {IAccessLog} from "../../contracts/interfaces/IAccessLog.sol";
import {IAssetRegistry} from "../../contracts/interfaces/IAssetRegistry.sol";
import {IMemberDirectory} from "../../contracts/interfaces/IMemberDirectory.sol";

import {Base} from "./Base.sol";

/// @dev Invariant 3 of ARCHITECTURE.md §4 (only an authorised department issues a type; only it or
/// governance revokes) and asset identity and validity, fuzzed.
contract IssuanceFuzzTest is Base {
    /// @dev A caller drawn from the cast (departments active, suspended and of other types, a
    /// consumer, the identity authority, governance, the admin) or a random address.
    function _caller(uint256 seed, address stranger) internal view returns (address) {
        address[9] memory cast = [
            publicSecurity,
            housingFund,
            suspendedDepartment,
            bank,
            identityAuthority,
            regulatorMember,
            catalogAdmin,
            address(this),
            stranger
        ];
        return cast[seed % cast.length];
    }

    /// @dev Mostly type ids 0..6 (reserved, issued, deprecated, undefined), sometimes any uint32.
    function _dataType(uint256 seed) internal pure returns (uint32) {
        return seed % 5 == 0 ? uint32(seed >> 8) : uint32(seed % 7);
    }

    /// @dev The revert `issueAsset` must give for `caller` and `dataType`, or "" if it must succeed.
    function _expectedIssueError(address caller, uint32 dataType) internal view returns (bytes memory) {
        if (!_isActiveDepartment(caller)) {
            return abi.encodeWithSelector(IMemberDirectory.MemberNotPermitted.selector, caller, MemberKind.Department);
        }
        if (!_mayIssue(caller, dataType)) {
            return abi.encodeWithSelector(IAssetRegistry.IssuerNotAuthorised.selector, dataType, caller);
        }
        return "";
    }

    function _newAsset(bytes32 subjectId, uint32 dataType, bytes32 salt) internal pure returns (NewAsset memory) {
        return NewAsset(subjectId, dataType, keccak256(abi.encode("commitment", salt)), keccak256("payload"), 0);
    }

    function _batch(NewAsset memory asset) internal pure returns (NewAsset[] memory assets) {
        assets = new NewAsset[](1);
        assets[0] = asset;
    }

    // ------------------------------------------------------------------ who may issue

    function testFuzz_issueAsset_onlyAuthorisedDepartmentIssues(
        uint256 callerSeed,
        address stranger,
        uint256 typeSeed,
        bytes32 salt
    ) public {
        address caller = _caller(callerSeed, stranger);
        uint32 dataType = _dataType(typeSeed);
        NewAsset memory asset = _newAsset(ALICE, dataType, salt);
        bytes memory expected = _expectedIssueError(caller, dataType);
        assertEq(
            dataSafe.canIssue(dataType, caller) ? 1 : 0,
            expected.length == 0 ? 1 : 0,
            "canIssue disagrees with the catalog"
        );
        if (expected.length != 0) vm.expectRevert(expected);
        vm.prank(caller);
        bytes32 assetId = dataSafe.issueAsset(asset);
        if (expected.length == 0) {
            assertEq(
                assetId,
                _assetId(AssetKey(caller, ALICE, dataType, asset.contentCommitment)),
                "asset id is not the hash of its key"
            );
            assertTrue(dataSafe.isValid(assetId), "new asset not valid");
        }
    }

    /// @dev The batch path must enforce the same rule as `issueAsset`, item by item.
    function testFuzz_issueAssets_onlyAuthorisedDepartmentIssues(
        uint256 callerSeed,
        address stranger,
        uint256 typeSeed,
        bytes32 salt
    ) public {
        address caller = _caller(callerSeed, stranger);
        uint32 dataType = _dataType(typeSeed);
        bytes memory expected = _expectedIssueError(caller, dataType);
        if (expected.length != 0) vm.expectRevert(expected);
        vm.prank(caller);
        dataSafe.issueAssets(_batch(_newAsset(BOB, dataType, salt)));
    }

    /// @dev Regression (found by the fuzz test above, fixed in 4d3ddf9): `issueAssets` started with
    /// `checkedType = 0` and checked the issuer only when an item's type differed from it, so items
    /// of type 0 at the head of a batch were never checked: any address, member or not, issued
    /// valid assets (type 0) to any holder.
    function test_issueAssets_dataTypeZeroByStrangerReverts() public {
        address stranger = address(0xBAD);
        NewAsset memory forged = _newAsset(ALICE, 0, "forged");
        vm.expectRevert(
            abi.encodeWithSelector(IMemberDirectory.MemberNotPermitted.selector, stranger, MemberKind.Department)
        );
        vm.prank(stranger);
        dataSafe.issueAssets(_batch(forged));
    }

    function testFuzz_issueAsset_suspendedDepartmentRefusedUntilReinstated(uint256 typeSeed, bytes32 salt) public {
        uint32 dataType = typeSeed % 2 == 0 ? HOUSEHOLD_REGISTER : ID_CARD;
        vm.prank(regulator);
        dataSafe.suspendMember(publicSecurity, 7);
        vm.expectRevert(
            abi.encodeWithSelector(IMemberDirectory.MemberNotPermitted.selector, publicSecurity, MemberKind.Department)
        );
        vm.prank(publicSecurity);
        dataSafe.issueAsset(_newAsset(CAROL, dataType, salt));

        vm.prank(regulator);
        dataSafe.reinstateMember(publicSecurity);
        vm.prank(publicSecurity);
        dataSafe.issueAsset(_newAsset(CAROL, dataType, salt));
    }

    // ------------------------------------------------------------------ asset identity

    /// @dev Whatever changes between two submissions (payload pointer, validity) and whatever
    /// happened to the first asset (revoked, superseded, expired), the same key cannot be issued
    /// again, alone or in a batch.
    function testFuzz_issueAsset_twiceRevertsAssetAlreadyIssued(
        uint256 issuerSeed,
        bytes32 subjectId,
        bytes32 commitment,
        uint256 variation,
        uint256 between
    ) public {
        vm.assume(subjectId != 0 && commitment != 0);
        (address issuer, uint32 dataType) = issuerSeed % 3 == 0
            ? (housingFund, HOUSING_FUND)
            : (publicSecurity, issuerSeed % 3 == 1 ? HOUSEHOLD_REGISTER : ID_CARD);
        AssetKey memory key = AssetKey(issuer, subjectId, dataType, commitment);
        bytes32 expectedId = _assetId(key);

        vm.prank(issuer);
        bytes32 assetId = dataSafe.issueAsset(_variant(key, variation, 0));
        assertEq(assetId, expectedId, "asset id is not keccak256(abi.encode(AssetKey))");

        uint256 what = between % 4;
        if (what == 1) {
            vm.prank(issuer);
            dataSafe.revokeAsset(key, 1);
        } else if (what == 2) {
            NewAsset memory next = _variant(key, variation, 1);
            next.contentCommitment = keccak256(abi.encode(commitment));
            vm.prank(issuer);
            dataSafe.supersedeAsset(key, next);
        } else if (what == 3) {
            vm.warp(START + 4000 days);
        }

        NewAsset memory again = _variant(key, variation, 2);
        bytes memory duplicate = abi.encodeWithSelector(IAssetRegistry.AssetAlreadyIssued.selector, expectedId);

        vm.expectRevert(duplicate);
        vm.prank(issuer);
        dataSafe.issueAsset(again);

        vm.expectRevert(duplicate);
        vm.prank(issuer);
        dataSafe.issueAssets(_batch(again));
    }

    /// @dev The asset `key` names, with a payload pointer and a validity (none, or from now to the
    /// end of uint40) drawn from `variation` and `round`: what a re-run may change.
    function _variant(AssetKey memory key, uint256 variation, uint256 round) internal view returns (NewAsset memory) {
        uint256 seed = uint256(keccak256(abi.encode(variation, round)));
        uint40 validUntil = seed % 3 == 0 ? 0 : uint40(_bound(seed >> 8, block.timestamp, type(uint40).max));
        return NewAsset(key.subjectId, key.dataType, key.contentCommitment, bytes32(seed), validUntil);
    }

    function testFuzz_issueAssets_duplicateInOneBatchReverts(bytes32 subjectId, bytes32 commitment, uint8 at) public {
        vm.assume(subjectId != 0 && commitment != 0);
        uint256 count = 2 + (at % 4);
        NewAsset[] memory assets = new NewAsset[](count);
        for (uint256 i; i < count; ++i) {
            assets[i] = NewAsset(subjectId, ID_CARD, keccak256(abi.encode(commitment, i)), bytes32(i), 0);
        }
        // the last item repeats an earlier one
        uint256 repeated = at % (count - 1);
        assets[count - 1] = assets[repeated];
        bytes32 expectedId = _assetId(AssetKey(publicSecurity, subjectId, ID_CARD, assets[repeated].contentCommitment));
        vm.expectRevert(abi.encodeWithSelector(IAssetRegistry.AssetAlreadyIssued.selector, expectedId));
        vm.prank(publicSecurity);
        dataSafe.issueAssets(assets);
    }

    // ------------------------------------------------------------------ validity

    /// @dev A revoked, superseded or expired asset is never valid, never verifies and is never read,
    /// whatever its validity window and however far time moves.
    function testFuzz_isValid_falseOnceRevokedOrExpired(
        uint256 validitySeed,
        uint256 warpBy,
        uint256 lifecycle,
        bytes32 salt
    ) public {
        uint40 validUntil = validitySeed % 4 == 0 ? 0 : uint40(_bound(validitySeed, START, START + 365 days));
        (bytes32 assetId, AssetKey memory key) = _issue(publicSecurity, ALICE, ID_CARD, salt, validUntil);
        bytes32 grantId = _directGrant(
            alice,
            ALICE,
            bank,
            GrantScope.Asset,
            assetId,
            PURPOSE_LOAN,
            uint40(START + 1000 days),
            100
        );

        uint256 what = lifecycle % 4; // 0 stays, 1 revoked by issuer, 2 by governance, 3 superseded
        if (what == 1) {
            vm.prank(publicSecurity);
            dataSafe.revokeAsset(key, 2);
        } else if (what == 2) {
            vm.prank(operator);
            dataSafe.revokeAssetByGovernance(assetId, 3);
        } else if (what == 3) {
            vm.prank(publicSecurity);
            dataSafe.supersedeAsset(key, NewAsset(ALICE, ID_CARD, keccak256(abi.encode(salt, "v2")), 0, 0));
        }
        vm.warp(START + _bound(warpBy, 0, 400 days));

        bool expected = what == 0 && (validUntil == 0 || block.timestamp <= validUntil);
        assertTrue(dataSafe.isValid(assetId) == expected, "isValid disagrees with status and validUntil");
        assertTrue(dataSafe.verifyAsset(key) == expected, "verifyAsset disagrees with isValid");
        AccessCheck check = dataSafe.checkAccess(key, bank, GrantScope.Asset, PURPOSE_LOAN, 0);
        assertEq(
            uint8(check),
            uint8(expected ? AccessCheck.Allowed : AccessCheck.AssetNotValid),
            "checkAccess on an invalid asset"
        );
        if (!expected) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessLog.AccessDenied.selector, grantId, assetId, AccessCheck.AssetNotValid)
            );
        }
        vm.prank(bank);
        dataSafe.recordAccess(key, GrantScope.Asset, PURPOSE_LOAN, 0);
    }

    /// @dev An asset can be superseded up to and at its valid-until, never after: an expired asset is
    /// refused with `AssetExpired`, keeps its stored status, and nothing new is issued.
    function testFuzz_supersedeAsset_onlyUntilValidUntil(uint256 validFor, uint256 at, bytes32 salt) public {
        uint40 validUntil = uint40(START + _bound(validFor, 1, 3650 days));
        (bytes32 assetId, AssetKey memory key) = _issue(publicSecurity, ALICE, ID_CARD, salt, validUntil);
        vm.warp(_bound(at, START, uint256(validUntil) + 3650 days));
        NewAsset memory next = NewAsset(ALICE, ID_CARD, keccak256(abi.encode(salt, "v2")), 0, 0);
        bytes32 nextId = _assetId(AssetKey(publicSecurity, ALICE, ID_CARD, next.contentCommitment));
        bool expired = block.timestamp > validUntil;
        if (expired) {
            vm.expectRevert(abi.encodeWithSelector(IAssetRegistry.AssetExpired.selector, assetId, validUntil));
        }
        vm.prank(publicSecurity);
        dataSafe.supersedeAsset(key, next);
        assertEq(
            uint8(dataSafe.getAsset(assetId).status),
            uint8(expired ? AssetStatus.Valid : AssetStatus.Superseded),
            "stored status of the previous asset"
        );
        assertTrue(dataSafe.getAsset(nextId).status == (expired ? AssetStatus.None : AssetStatus.Valid), "new version");
    }

    /// @dev Only the issuer (or governance) revokes: any other caller is refused by name.
    function testFuzz_revokeAsset_onlyIssuer(uint256 callerSeed, address stranger, bytes32 salt) public {
        address caller = _caller(callerSeed, stranger);
        (bytes32 assetId, AssetKey memory key) = _issue(housingFund, BOB, HOUSING_FUND, salt, 0);
        if (caller != housingFund) {
            vm.expectRevert(abi.encodeWithSelector(IAssetRegistry.NotAssetIssuer.selector, assetId, caller));
        }
        vm.prank(caller);
        dataSafe.revokeAsset(key, 1);
        assertTrue(dataSafe.isValid(assetId) == (caller != housingFund), "revocation outcome");
    }

    function test_issueAsset_pastValidUntilReverts() public {
        NewAsset memory stale = NewAsset(ALICE, ID_CARD, keccak256("c"), 0, uint40(START - 1));
        vm.expectRevert(
            abi.encodeWithSelector(IAssetRegistry.InvalidNewAsset.selector, ALICE, ID_CARD, uint40(START - 1))
        );
        vm.prank(publicSecurity);
        dataSafe.issueAsset(stale);
    }

    function test_recordAccess_dataTypeGrantFollowsSupersede() public {
        (bytes32 first, AssetKey memory key) = _issue(publicSecurity, CAROL, HOUSEHOLD_REGISTER, "first", 0);
        bytes32 grantId = _directGrant(
            carol,
            CAROL,
            school,
            GrantScope.DataType,
            _typeTarget(publicSecurity, HOUSEHOLD_REGISTER),
            PURPOSE_ENROLMENT,
            uint40(START + 30 days),
            3
        );
        vm.prank(publicSecurity);
        bytes32 second = dataSafe.supersedeAsset(key, NewAsset(CAROL, HOUSEHOLD_REGISTER, keccak256("second"), 0, 0));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessLog.AccessDenied.selector, grantId, first, AccessCheck.AssetNotValid)
        );
        vm.prank(school);
        dataSafe.recordAccess(key, GrantScope.DataType, PURPOSE_ENROLMENT, 0);
        key.contentCommitment = keccak256("second");
        assertEq(dataSafe.assetIdOf(key), second, "the second version's key");
        vm.prank(school);
        dataSafe.recordAccess(key, GrantScope.DataType, PURPOSE_ENROLMENT, 0);
        assertEq(dataSafe.getGrant(grantId).reads, 1, "one read recorded");
        GrantKey memory gk = GrantKey(
            CAROL,
            school,
            GrantScope.DataType,
            _typeTarget(publicSecurity, HOUSEHOLD_REGISTER),
            PURPOSE_ENROLMENT
        );
        assertEq(dataSafe.grantIdOf(gk), grantId, "grant id is the hash of its key");
    }
}
