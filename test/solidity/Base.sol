// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DataCatalog} from "../../contracts/DataCatalog.sol";
import {DataSafe} from "../../contracts/DataSafe.sol";
import {DataSafeAccessManager} from "../../contracts/DataSafeAccessManager.sol";
import {
    AccessRequest,
    AssetKey,
    Authorization,
    GrantKey,
    GrantScope,
    GrantTerms,
    MemberKind,
    NewAsset,
    Roles
} from "../../contracts/Common.sol";
import {IDataCatalog} from "../../contracts/interfaces/IDataCatalog.sol";
import {IMemberDirectory} from "../../contracts/interfaces/IMemberDirectory.sol";
import {ISubjectRegistry} from "../../contracts/interfaces/ISubjectRegistry.sol";
import {IAssetRegistry} from "../../contracts/interfaces/IAssetRegistry.sol";

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @dev Assertions that revert with a message, so a failing check fails the test or invariant.
abstract contract Assertions {
    error AssertionFailed(string message, uint256 left, uint256 right);

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert AssertionFailed(message, 0, 0);
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message, left, right);
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message, uint256(left), uint256(right));
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message, uint160(left), uint160(right));
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) revert AssertionFailed(message, left, right);
    }
}

/// @dev The minimal StdInvariant: the fuzzer reads these lists after `setUp` to know which
/// contracts and selectors to call, and which senders to use or avoid.
abstract contract InvariantTargets {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetedContracts;
    address[] private _excludedContracts;
    address[] private _targetedSenders;
    address[] private _excludedSenders;
    FuzzSelector[] private _targetedSelectors;

    function targetContract(address target) internal {
        _targetedContracts.push(target);
    }

    function excludeContract(address target) internal {
        _excludedContracts.push(target);
    }

    function targetSender(address sender) internal {
        _targetedSenders.push(sender);
    }

    function excludeSender(address sender) internal {
        _excludedSenders.push(sender);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetedSelectors.push(selector);
    }

    function targetContracts() public view returns (address[] memory) {
        return _targetedContracts;
    }

    function excludeContracts() public view returns (address[] memory) {
        return _excludedContracts;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetedSenders;
    }

    function excludeSenders() public view returns (address[] memory) {
        return _excludedSenders;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetedSelectors;
    }
}

/// @dev Numbers and signatures shared by the tests and the invariant handler.
abstract contract TestHelpers {
    error BoundInvalid(uint256 min, uint256 max);

    // solhint-disable-next-line const-name-snakecase
    Vm internal constant vm = Vm(VM_ADDRESS);

    /// @dev Order of the secp256k1 group: private keys are in [1, SECP256K1_N).
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    /// @dev `x` mapped into [min, max] (forge-std's `bound`, without the log).
    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (min > max) revert BoundInvalid(min, max);
        if (x >= min && x <= max) return x;
        uint256 size = max - min + 1;
        if (size == 0) return x; // full range
        return min + (x % size);
    }

    function _sign(uint256 privateKey, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(privateKey, digest);
        return abi.encodePacked(r, s, v);
    }

    function _digest(DataSafe dataSafe, bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", dataSafe.domainSeparator(), structHash));
    }

    /// @dev The request id: its fields in order, the targets hashed as EIP-712 hashes an array.
    function _requestId(AccessRequest memory request) internal pure returns (bytes32) {
        return keccak256(_requestContent(request));
    }

    function _requestContent(AccessRequest memory request) internal pure returns (bytes memory) {
        return
            abi.encode(
                request.subjectId,
                request.consumer,
                request.scope,
                keccak256(abi.encodePacked(request.targets)),
                request.fields,
                request.purpose,
                request.grantDuration,
                request.maxReads,
                request.expiresAt,
                request.nonce
            );
    }

    /// @dev ApproveAccessRequest(requestId, <the request's fields, its nonce as requestNonce>, nonce, deadline).
    function _approveDigest(
        DataSafe dataSafe,
        AccessRequest memory request,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes memory head = abi.encode(dataSafe.APPROVE_REQUEST_TYPEHASH(), _requestId(request));
        return _digest(dataSafe, keccak256(bytes.concat(head, _requestContent(request), abi.encode(nonce, deadline))));
    }

    /// @dev RejectAccessRequest(requestId, reason, <the request's fields>, nonce, deadline).
    function _rejectDigest(
        DataSafe dataSafe,
        AccessRequest memory request,
        uint16 reason,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        bytes memory head = abi.encode(dataSafe.REJECT_REQUEST_TYPEHASH(), _requestId(request), reason);
        return _digest(dataSafe, keccak256(bytes.concat(head, _requestContent(request), abi.encode(nonce, deadline))));
    }

    /// @dev A nonce of `epoch` (the subject's `nonce` field) with index `index`.
    function _nonce(uint256 epoch, uint256 index) internal pure returns (uint256) {
        return (epoch << 208) | index;
    }

    function _grantDigest(
        DataSafe dataSafe,
        GrantTerms memory terms,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return
            _digest(
                dataSafe,
                keccak256(
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
                        nonce,
                        deadline
                    )
                )
            );
    }

    function _revokeDigest(
        DataSafe dataSafe,
        GrantKey memory key,
        uint32 version,
        uint256 nonce,
        uint256 deadline
    ) internal view returns (bytes32) {
        return
            _digest(
                dataSafe,
                keccak256(
                    abi.encode(
                        dataSafe.REVOKE_TYPEHASH(),
                        key.subjectId,
                        key.consumer,
                        key.scope,
                        key.target,
                        key.purpose,
                        version,
                        nonce,
                        deadline
                    )
                )
            );
    }

    /// @dev A data-type grant target: `issuer`'s assets of `dataType`.
    function _typeTarget(address issuer, uint32 dataType) internal pure returns (bytes32) {
        return bytes32((uint256(uint160(issuer)) << 32) | dataType);
    }

    function _assetId(AssetKey memory key) internal pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    function _grantId(GrantKey memory key) internal pure returns (bytes32) {
        return keccak256(abi.encode(key));
    }

    function _one(address account) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = account;
    }

    function _one(bytes32 value) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = value;
    }
}

/// @dev The deployed suite, wired like deploy/modules/Permissions.ts (roles.ts maps each restricted
/// function to its role; every role granted without execution delay), with a small cast: two
/// departments, a suspended department, three consumers, an identity authority, a regulator member,
/// three subjects controlled by known private keys, and a catalog of five type ids.
abstract contract Base is TestHelpers, Assertions, InvariantTargets {
    uint32 internal constant RECOVERY_DELAY = 3 days;
    uint256 internal constant START = 1_750_000_000; // June 2025

    /// @dev Catalog: types 1 and 2 issued by `publicSecurity`, 3 by `housingFund`, 4 defined then
    /// deprecated (it had `housingFund`), 5 never defined. 0 is reserved.
    uint32 internal constant HOUSEHOLD_REGISTER = 1;
    uint32 internal constant ID_CARD = 2;
    uint32 internal constant HOUSING_FUND = 3;
    uint32 internal constant DEPRECATED_TYPE = 4;
    uint32 internal constant UNDEFINED_TYPE = 5;

    uint16 internal constant PURPOSE_LOAN = 1;
    uint16 internal constant PURPOSE_ENROLMENT = 2;

    uint256 internal constant ALICE_PK = 0xA11CE;
    uint256 internal constant BOB_PK = 0xB0B;
    uint256 internal constant CAROL_PK = 0xCA401;

    DataSafeAccessManager internal manager;
    DataCatalog internal catalog;
    DataSafe internal dataSafe;

    // governance role holders
    address internal operator = address(0x0A01);
    address internal memberAdmin = address(0x0A02);
    address internal catalogAdmin = address(0x0A03);
    address internal regulator = address(0x0A04);

    // members
    address internal publicSecurity = address(0xD001); // department: types 1, 2
    address internal housingFund = address(0xD002); // department: type 3 (and 4 before deprecation)
    address internal suspendedDepartment = address(0xD003); // department, authorised for 1, suspended
    address internal bank = address(0xC001);
    address internal school = address(0xC002);
    address internal employer = address(0xC003);
    address internal identityAuthority = address(0x1A01);
    address internal regulatorMember = address(0x4E01);

    // subjects
    bytes32 internal constant ALICE = keccak256("subject:alice");
    bytes32 internal constant BOB = keccak256("subject:bob");
    bytes32 internal constant CAROL = keccak256("subject:carol");
    address internal alice;
    address internal bob;
    address internal carol;

    function setUp() public virtual {
        vm.warp(START);
        manager = new DataSafeAccessManager(address(this));
        catalog = new DataCatalog(address(manager));
        dataSafe = new DataSafe(address(manager), IDataCatalog(address(catalog)), RECOVERY_DELAY);
        _wireRoles();
        _registerMembers();
        _defineCatalog();
        _registerSubjects();
        _label();
    }

    /// @dev DATA_SAFE_FUNCTION_ROLES and CATALOG_FUNCTION_ROLES of deploy/modules/roles.ts.
    function _wireRoles() internal {
        bytes4[] memory operatorCore = new bytes4[](2);
        operatorCore[0] = ISubjectRegistry.setRecoveryDelay.selector;
        operatorCore[1] = IAssetRegistry.revokeAssetByGovernance.selector;
        bytes4[] memory memberAdminCore = new bytes4[](2);
        memberAdminCore[0] = IMemberDirectory.registerMember.selector;
        memberAdminCore[1] = IMemberDirectory.updateMember.selector;
        bytes4[] memory regulatorCore = new bytes4[](3);
        regulatorCore[0] = IMemberDirectory.suspendMember.selector;
        regulatorCore[1] = IMemberDirectory.reinstateMember.selector;
        regulatorCore[2] = ISubjectRegistry.cancelRecoveryByGovernance.selector;
        manager.setTargetFunctionRole(address(dataSafe), operatorCore, Roles.OPERATOR);
        manager.setTargetFunctionRole(address(dataSafe), memberAdminCore, Roles.MEMBER_ADMIN);
        manager.setTargetFunctionRole(address(dataSafe), regulatorCore, Roles.REGULATOR);
        manager.setTargetFunctionRole(address(catalog), _catalogSelectors(), Roles.CATALOG_ADMIN);

        manager.labelRole(Roles.OPERATOR, "OPERATOR");
        manager.labelRole(Roles.MEMBER_ADMIN, "MEMBER_ADMIN");
        manager.labelRole(Roles.CATALOG_ADMIN, "CATALOG_ADMIN");
        manager.labelRole(Roles.REGULATOR, "REGULATOR");
        manager.grantRole(Roles.OPERATOR, operator, 0);
        manager.grantRole(Roles.MEMBER_ADMIN, memberAdmin, 0);
        manager.grantRole(Roles.CATALOG_ADMIN, catalogAdmin, 0);
        manager.grantRole(Roles.REGULATOR, regulator, 0);
    }

    function _catalogSelectors() internal pure returns (bytes4[] memory selectors) {
        selectors = new bytes4[](5);
        selectors[0] = IDataCatalog.defineDataType.selector;
        selectors[1] = IDataCatalog.updateDataTypeSchema.selector;
        selectors[2] = IDataCatalog.deprecateDataType.selector;
        selectors[3] = IDataCatalog.authoriseIssuer.selector;
        selectors[4] = IDataCatalog.deauthoriseIssuer.selector;
    }

    function _registerMembers() internal {
        vm.startPrank(memberAdmin);
        dataSafe.registerMember(publicSecurity, MemberKind.Department, "Public Security Bureau", "");
        dataSafe.registerMember(housingFund, MemberKind.Department, "Housing Fund Centre", "");
        dataSafe.registerMember(suspendedDepartment, MemberKind.Department, "Closed Office", "");
        dataSafe.registerMember(bank, MemberKind.Consumer, "Bank", "");
        dataSafe.registerMember(school, MemberKind.Consumer, "School", "");
        dataSafe.registerMember(employer, MemberKind.Consumer, "Employer", "");
        dataSafe.registerMember(identityAuthority, MemberKind.IdentityAuthority, "Identity Authority", "");
        dataSafe.registerMember(regulatorMember, MemberKind.Regulator, "Regulator", "");
        vm.stopPrank();
    }

    function _defineCatalog() internal {
        vm.startPrank(catalogAdmin);
        catalog.defineDataType(HOUSEHOLD_REGISTER, "household-register", keccak256("schema:1"), "ipfs://1");
        catalog.defineDataType(ID_CARD, "id-card", keccak256("schema:2"), "ipfs://2");
        catalog.defineDataType(HOUSING_FUND, "housing-fund", keccak256("schema:3"), "ipfs://3");
        catalog.defineDataType(DEPRECATED_TYPE, "old-register", keccak256("schema:4"), "ipfs://4");
        catalog.authoriseIssuer(HOUSEHOLD_REGISTER, publicSecurity);
        catalog.authoriseIssuer(ID_CARD, publicSecurity);
        catalog.authoriseIssuer(HOUSING_FUND, housingFund);
        catalog.authoriseIssuer(DEPRECATED_TYPE, housingFund);
        catalog.authoriseIssuer(HOUSEHOLD_REGISTER, suspendedDepartment);
        catalog.deprecateDataType(DEPRECATED_TYPE);
        vm.stopPrank();
        vm.prank(regulator);
        dataSafe.suspendMember(suspendedDepartment, 1);
    }

    function _registerSubjects() internal {
        alice = vm.addr(ALICE_PK);
        bob = vm.addr(BOB_PK);
        carol = vm.addr(CAROL_PK);
        vm.startPrank(identityAuthority);
        dataSafe.registerSubject(ALICE, alice);
        dataSafe.registerSubject(BOB, bob);
        dataSafe.registerSubject(CAROL, carol);
        vm.stopPrank();
    }

    function _label() internal {
        vm.label(address(manager), "manager");
        vm.label(address(catalog), "catalog");
        vm.label(address(dataSafe), "dataSafe");
        vm.label(publicSecurity, "publicSecurity");
        vm.label(housingFund, "housingFund");
        vm.label(suspendedDepartment, "suspendedDepartment");
        vm.label(bank, "bank");
        vm.label(school, "school");
        vm.label(employer, "employer");
        vm.label(identityAuthority, "identityAuthority");
        vm.label(alice, "alice");
        vm.label(bob, "bob");
        vm.label(carol, "carol");
    }

    // ---------------------------------------------------------------- model of the catalog

    /// @dev Whether `account` is an active department authorised for `dataType` in this setup.
    function _mayIssue(address account, uint32 dataType) internal view returns (bool) {
        if (account == publicSecurity) return dataType == HOUSEHOLD_REGISTER || dataType == ID_CARD;
        if (account == housingFund) return dataType == HOUSING_FUND;
        return false;
    }

    function _isActiveDepartment(address account) internal view returns (bool) {
        return account == publicSecurity || account == housingFund;
    }

    // ---------------------------------------------------------------- shortcuts

    function _issue(
        address issuer,
        bytes32 subjectId,
        uint32 dataType,
        bytes32 salt,
        uint40 validUntil
    ) internal returns (bytes32 assetId, AssetKey memory key) {
        bytes32 commitment = keccak256(abi.encode("commitment", salt));
        key = AssetKey(issuer, subjectId, dataType, commitment);
        vm.prank(issuer);
        assetId = dataSafe.issueAsset(NewAsset(subjectId, dataType, commitment, keccak256("payload"), validUntil));
    }

    function _directGrant(
        address controller,
        bytes32 subjectId,
        address consumer,
        GrantScope scope,
        bytes32 target,
        uint16 purpose,
        uint40 expiresAt,
        uint32 maxReads
    ) internal returns (bytes32 grantId) {
        vm.prank(controller);
        bytes32[] memory ids = dataSafe.grant(
            GrantTerms(subjectId, _one(consumer), scope, _one(target), 0, purpose, expiresAt, maxReads)
        );
        grantId = ids[0];
    }

    function _request(
        address consumer,
        bytes32 subjectId,
        GrantScope scope,
        bytes32 target,
        uint16 purpose
    ) internal returns (AccessRequest memory request) {
        vm.prank(consumer);
        (, request) = dataSafe.requestAccess(
            subjectId,
            scope,
            _one(target),
            0,
            purpose,
            1 days,
            2,
            uint40(block.timestamp + 7 days)
        );
    }

    function _auth(
        uint256 privateKey,
        bytes32 digest,
        uint256 nonce,
        uint256 deadline
    ) internal pure returns (Authorization memory) {
        return Authorization(nonce, deadline, _sign(privateKey, digest));
    }
}
