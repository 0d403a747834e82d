// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessCheck, AssetKey, GrantKey, GrantScope, GrantTerms, NewAsset} from "../../contracts/Common.sol";
import {IAccessLog} from "../../contracts/interfaces/IAccessLog.sol";
import {IConsentManager} from "../../contracts/interfaces/IConsentManager.sol";

import {Base} from "./Base.sol";

/// @dev What a grant covers (invariant 1 of ARCHITECTURE.md §4): a data-type grant, its department's
/// current asset of the type and nothing else; a read, only fields within the grant's; a grant, at
/// most MAX_GRANT_DURATION; an issuer's suspension, no read of its assets.
contract GrantScopeFuzzTest is Base {
    uint40 internal expiry;

    function setUp() public override {
        super.setUp();
        expiry = uint40(START + 30 days);
        // a second department may issue household registers too
        vm.prank(catalogAdmin);
        catalog.authoriseIssuer(HOUSEHOLD_REGISTER, housingFund);
    }

    function _read(AssetKey memory key, GrantScope scope, uint64 fields) internal view returns (AccessCheck) {
        return dataSafe.checkAccess(key, school, scope, PURPOSE_ENROLMENT, fields);
    }

    /// @dev A type grant naming public security covers its current household register, whenever
    /// issued, through supersedes; never the housing-fund centre's, issued before or after.
    function testFuzz_dataTypeGrant_coversItsDepartmentsCurrentAssetOnly(
        bytes32 salt,
        uint8 versions,
        bool otherFirst
    ) public {
        AssetKey memory other;
        if (otherFirst) (, other) = _issue(housingFund, ALICE, HOUSEHOLD_REGISTER, keccak256(abi.encode(salt, "o")), 0);
        bytes32 grantId = _directGrant(
            alice,
            ALICE,
            school,
            GrantScope.DataType,
            _typeTarget(publicSecurity, HOUSEHOLD_REGISTER),
            PURPOSE_ENROLMENT,
            expiry,
            type(uint32).max
        );
        if (!otherFirst)
            (, other) = _issue(housingFund, ALICE, HOUSEHOLD_REGISTER, keccak256(abi.encode(salt, "o")), 0);
        (, AssetKey memory current) = _issue(publicSecurity, ALICE, HOUSEHOLD_REGISTER, salt, 0);

        uint256 count = _bound(versions, 0, 5);
        for (uint256 v; v <= count; ++v) {
            assertEq(uint8(_read(current, GrantScope.DataType, 0)), uint8(AccessCheck.Allowed), "current covered");
            assertEq(uint8(_read(other, GrantScope.DataType, 0)), uint8(AccessCheck.NoGrant), "other issuer not");
            vm.prank(school);
            dataSafe.recordAccess(current, GrantScope.DataType, PURPOSE_ENROLMENT, 0);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessLog.AccessDenied.selector,
                    _grantId(
                        GrantKey(
                            ALICE,
                            school,
                            GrantScope.DataType,
                            _typeTarget(housingFund, HOUSEHOLD_REGISTER),
                            PURPOSE_ENROLMENT
                        )
                    ),
                    _assetId(other),
                    AccessCheck.NoGrant
                )
            );
            vm.prank(school);
            dataSafe.recordAccess(other, GrantScope.DataType, PURPOSE_ENROLMENT, 0);
            if (v == count) break;
            AssetKey memory previous = current;
            current = AssetKey(publicSecurity, ALICE, HOUSEHOLD_REGISTER, keccak256(abi.encode(salt, v)));
            vm.prank(publicSecurity);
            dataSafe.supersedeAsset(previous, NewAsset(ALICE, HOUSEHOLD_REGISTER, current.contentCommitment, 0, 0));
            assertEq(uint8(_read(previous, GrantScope.DataType, 0)), uint8(AccessCheck.AssetNotValid), "old version");
        }
        assertEq(dataSafe.getGrant(grantId).reads, count + 1, "one read per version");
    }

    /// @dev A read is allowed exactly when its fields lie within the grant's (0 = the whole record).
    function testFuzz_recordAccess_fieldsWithinTheGrant(uint64 granted, uint64 read) public {
        (bytes32 assetId, AssetKey memory key) = _issue(publicSecurity, BOB, ID_CARD, "bob-id", 0);
        vm.prank(bob);
        bytes32[] memory ids = dataSafe.grant(
            GrantTerms(BOB, _one(school), GrantScope.Asset, _one(assetId), granted, PURPOSE_ENROLMENT, expiry, 3)
        );
        assertEq(dataSafe.getGrant(ids[0]).fields, granted, "fields stored");
        bool covered = granted == 0 || (read != 0 && read & ~granted == 0);
        AccessCheck expected = covered ? AccessCheck.Allowed : AccessCheck.FieldsNotGranted;
        assertEq(uint8(_read(key, GrantScope.Asset, read)), uint8(expected), "checkAccess");
        if (!covered) {
            vm.expectRevert(
                abi.encodeWithSelector(IAccessLog.AccessDenied.selector, ids[0], assetId, AccessCheck.FieldsNotGranted)
            );
        }
        vm.prank(school);
        dataSafe.recordAccess(key, GrantScope.Asset, PURPOSE_ENROLMENT, read);
        assertEq(dataSafe.getGrant(ids[0]).reads, covered ? 1 : 0, "a refused read consumes nothing");
    }

    /// @dev A direct grant expires at most MAX_GRANT_DURATION from now.
    function testFuzz_grant_expiryAtMostMaxGrantDuration(uint256 aheadSeed) public {
        uint256 max = dataSafe.MAX_GRANT_DURATION();
        uint40 expiresAt = uint40(block.timestamp + _bound(aheadSeed, 1, 2 * max));
        (bytes32 assetId, ) = _issue(publicSecurity, BOB, ID_CARD, "bob-id", 0);
        GrantTerms memory terms = GrantTerms(
            BOB,
            _one(school),
            GrantScope.Asset,
            _one(assetId),
            0,
            PURPOSE_ENROLMENT,
            expiresAt,
            1
        );
        if (expiresAt > block.timestamp + max) {
            vm.expectRevert(abi.encodeWithSelector(IConsentManager.InvalidGrantTerms.selector, expiresAt, 1));
        }
        vm.prank(bob);
        dataSafe.grant(terms);
    }

    /// @dev While its issuer is suspended an asset is neither vouched for nor read; on
    /// reinstatement both come back.
    function testFuzz_suspendedIssuer_assetsNotReadUntilReinstated(bytes32 salt, uint16 reason) public {
        (bytes32 assetId, AssetKey memory key) = _issue(housingFund, CAROL, HOUSING_FUND, salt, 0);
        bytes32 grantId = _directGrant(carol, CAROL, school, GrantScope.Asset, assetId, PURPOSE_ENROLMENT, expiry, 2);
        vm.prank(regulator);
        dataSafe.suspendMember(housingFund, reason);
        assertTrue(!dataSafe.verifyAsset(key), "not vouched for");
        assertTrue(dataSafe.isValid(assetId), "the record itself unchanged");
        vm.expectRevert(
            abi.encodeWithSelector(IAccessLog.AccessDenied.selector, grantId, assetId, AccessCheck.IssuerSuspended)
        );
        vm.prank(school);
        dataSafe.recordAccess(key, GrantScope.Asset, PURPOSE_ENROLMENT, 0);
        vm.prank(regulator);
        dataSafe.reinstateMember(housingFund);
        assertTrue(dataSafe.verifyAsset(key), "vouched for again");
        vm.prank(school);
        dataSafe.recordAccess(key, GrantScope.Asset, PURPOSE_ENROLMENT, 0);
        assertEq(dataSafe.getGrant(grantId).reads, 1, "read once reinstated");
    }
}
