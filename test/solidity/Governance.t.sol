// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {IAccessManaged} from "@openzeppelin/contracts/access/manager/IAccessManaged.sol";
import {IAccessManager} from "@openzeppelin/contracts/access/manager/IAccessManager.sol";

import {MemberKind, MemberStatus, Roles} from "../../contracts/Common.sol";
import {IAssetRegistry} from "../../contracts/interfaces/IAssetRegistry.sol";
import {IDataCatalog} from "../../contracts/interfaces/IDataCatalog.sol";
import {IMemberDirectory} from "../../contracts/interfaces/IMemberDirectory.sol";
import {ISubjectRegistry} from "../../contracts/interfaces/ISubjectRegistry.sol";

import {Base} from "./Base.sol";

/// @dev Invariant 6 of ARCHITECTURE.md §4: every governed function refuses whoever lacks its role
/// (the mapping of deploy/modules/roles.ts), and its role holder can call it.
contract GovernanceFuzzTest is Base {
    uint256 internal constant RESTRICTED_COUNT = 11;

    bytes32 internal assetId;

    function setUp() public override {
        super.setUp();
        (assetId, ) = _issue(publicSecurity, BOB, ID_CARD, "bob-id-card", 0);
    }

    /// @dev The `index`th governed function: its contract, a well-formed call, and its role holder.
    function _restricted(uint256 index) internal view returns (address target, bytes memory data, address holder) {
        if (index == 0) {
            return (
                address(dataSafe),
                abi.encodeCall(IMemberDirectory.registerMember, (address(0xF00D), MemberKind.Consumer, "Insurer", "")),
                memberAdmin
            );
        }
        if (index == 1) {
            return (
                address(dataSafe),
                abi.encodeCall(IMemberDirectory.updateMember, (bank, "Bank", "ipfs://bank")),
                memberAdmin
            );
        }
        if (index == 2) {
            return (address(dataSafe), abi.encodeCall(IMemberDirectory.suspendMember, (bank, 1)), regulator);
        }
        if (index == 3) {
            return (
                address(dataSafe),
                abi.encodeCall(IMemberDirectory.reinstateMember, (suspendedDepartment)),
                regulator
            );
        }
        if (index == 4) {
            return (address(dataSafe), abi.encodeCall(ISubjectRegistry.setRecoveryDelay, (1 days)), operator);
        }
        if (index == 5) {
            return (address(dataSafe), abi.encodeCall(IAssetRegistry.revokeAssetByGovernance, (assetId, 4)), operator);
        }
        if (index == 6) {
            return (
                address(catalog),
                abi.encodeCall(IDataCatalog.defineDataType, (77, "diploma", keccak256("schema:77"), "ipfs://77")),
                catalogAdmin
            );
        }
        if (index == 7) {
            return (
                address(catalog),
                abi.encodeCall(IDataCatalog.updateDataTypeSchema, (ID_CARD, keccak256("schema:2b"), "ipfs://2b")),
                catalogAdmin
            );
        }
        if (index == 8) {
            return (address(catalog), abi.encodeCall(IDataCatalog.deprecateDataType, (ID_CARD)), catalogAdmin);
        }
        if (index == 9) {
            return (
                address(catalog),
                abi.encodeCall(IDataCatalog.authoriseIssuer, (ID_CARD, housingFund)),
                catalogAdmin
            );
        }
        return (
            address(catalog),
            abi.encodeCall(IDataCatalog.deauthoriseIssuer, (ID_CARD, publicSecurity)),
            catalogAdmin
        );
    }

    /// @dev Everyone without the function's role is refused with `AccessManagedUnauthorized(caller)`:
    /// other role holders, the AccessManager admin, members, random addresses. The holder then
    /// succeeds with the same call, so the refusal was about the role, not the arguments.
    function testFuzz_restricted_refusesCallerWithoutRole(
        uint256 functionSeed,
        uint256 callerSeed,
        address stranger
    ) public {
        (address target, bytes memory data, address holder) = _restricted(functionSeed % RESTRICTED_COUNT);
        address[10] memory cast = [
            operator,
            memberAdmin,
            catalogAdmin,
            regulator,
            address(this), // ADMIN_ROLE
            address(manager),
            regulatorMember, // the regulator as a member holds no governance role
            publicSecurity,
            alice,
            stranger
        ];
        address caller = cast[callerSeed % cast.length];
        vm.assume(caller != holder);

        vm.prank(caller);
        (bool ok, bytes memory returned) = target.call(data);
        assertTrue(!ok, "governed call accepted without the role");
        assertEq(
            keccak256(returned),
            keccak256(abi.encodeWithSelector(IAccessManaged.AccessManagedUnauthorized.selector, caller)),
            "unexpected revert data"
        );

        vm.prank(holder);
        (ok, ) = target.call(data);
        assertTrue(ok, "role holder refused");
    }

    /// @dev The roles themselves are the admin's alone.
    function testFuzz_grantRole_refusesNonAdmin(address caller, uint64 roleSeed, address account) public {
        vm.assume(caller != address(this));
        uint64 role = uint64(_bound(roleSeed, Roles.OPERATOR, Roles.REGULATOR));
        vm.expectRevert(
            abi.encodeWithSelector(IAccessManager.AccessManagerUnauthorizedAccount.selector, caller, Roles.ADMIN)
        );
        vm.prank(caller);
        manager.grantRole(role, account, 0);
        (bool isMember, ) = manager.hasRole(role, account);
        assertTrue(
            !isMember ||
                account == operator ||
                account == memberAdmin ||
                account == catalogAdmin ||
                account == regulator,
            "role granted"
        );
    }

    function testFuzz_setTargetFunctionRole_refusesNonAdmin(address caller, uint64 role) public {
        vm.assume(caller != address(this));
        bytes4[] memory selectors = new bytes4[](1);
        selectors[0] = IMemberDirectory.suspendMember.selector;
        vm.expectRevert(
            abi.encodeWithSelector(IAccessManager.AccessManagerUnauthorizedAccount.selector, caller, Roles.ADMIN)
        );
        vm.prank(caller);
        manager.setTargetFunctionRole(address(dataSafe), selectors, role);
    }

    function testFuzz_setRecoveryDelay_aboveMaximumReverts(uint32 delay) public {
        uint32 maximum = dataSafe.MAX_RECOVERY_DELAY();
        delay = uint32(_bound(delay, uint256(maximum) + 1, type(uint32).max));
        vm.expectRevert(abi.encodeWithSelector(ISubjectRegistry.InvalidRecoveryDelay.selector, delay));
        vm.prank(operator);
        dataSafe.setRecoveryDelay(delay);
    }

    function test_suspendMember_byRegulatorStopsTheMember() public {
        vm.prank(regulator);
        dataSafe.suspendMember(bank, 3);
        assertEq(uint8(dataSafe.getMember(bank).status), uint8(MemberStatus.Suspended), "suspended");
        vm.expectRevert(
            abi.encodeWithSelector(IMemberDirectory.MemberStatusUnchanged.selector, bank, MemberStatus.Suspended)
        );
        vm.prank(regulator);
        dataSafe.suspendMember(bank, 3);
    }
}
