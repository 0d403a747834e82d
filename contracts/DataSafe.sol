// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

import {AccessLog} from "./AccessLog.sol";
import {AssetRegistry} from "./AssetRegistry.sol";
import {IDataCatalog} from "./interfaces/IDataCatalog.sol";
import {SubjectRegistry} from "./SubjectRegistry.sol";

/// @title datasafe
/// @notice The on-chain suite that returns government data to its holders as data assets, records
/// their consent and logs every use: members, subjects, assets, consent and access log in one
/// deployment, beside the data catalog (`DataCatalog`). Each concern is its own contract with its
/// own interface and private state; they are composed here because every hot path (issue, grant,
/// read, revoke) checks state of several of them, and a read across contracts would add a cold
/// account access and a call to each.
/// Governance is an OpenZeppelin AccessManager (see `DataSafeAccessManager`): it decides which
/// role may call each restricted function, and with what delay.
/// @dev The runtime code must stay under EIP-170's 24,576 bytes, which Besu enforces: after readable
/// approvals, unordered nonces and field-level consent it no longer had room for OpenZeppelin's
/// Multicall (491 bytes); callers batch by sending transactions pipelined instead.
contract DataSafe is AccessLog {
    /// @param authority the AccessManager that governs restricted functions
    /// @param catalog the data catalog
    /// @param initialRecoveryDelay seconds between the start and the completion of a key recovery
    constructor(
        address authority,
        IDataCatalog catalog,
        uint32 initialRecoveryDelay
    ) AccessManaged(authority) AssetRegistry(catalog) SubjectRegistry(initialRecoveryDelay) EIP712("DataSafe", "1") {}
}
