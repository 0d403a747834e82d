// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessManaged} from "@openzeppelin/contracts/access/manager/AccessManaged.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";

import {DataTypeStatus} from "./Common.sol";
import {IDataCatalog} from "./interfaces/IDataCatalog.sol";

/// @title Data catalog
/// @notice See {IDataCatalog}.
/// @dev Its own deployment, like a schema registry beside an attestation service: the registry reads
/// it only when a department issues, once per run of assets of one type. The set of issuers of a
/// type is the only thing that read touches: deprecating a type empties it, so one slot answers.
/// Whether an authorised address is an active department is the registry's check, made at each
/// issue against the member directory.
contract DataCatalog is IDataCatalog, AccessManaged {
    using EnumerableSet for EnumerableSet.AddressSet;

    mapping(uint32 dataType => DataType definition) private _dataTypes;
    mapping(uint32 dataType => EnumerableSet.AddressSet issuers) private _issuers;

    /// @param authority the AccessManager that governs the catalog
    constructor(address authority) AccessManaged(authority) {}

    /// @inheritdoc IDataCatalog
    function defineDataType(
        uint32 dataType,
        string calldata name,
        bytes32 schemaHash,
        string calldata schemaURI
    ) external restricted {
        if (dataType == 0 || bytes(name).length == 0 || schemaHash == 0) revert InvalidDataType(dataType);
        DataType storage definition = _dataTypes[dataType];
        if (definition.status != DataTypeStatus.None) revert DataTypeAlreadyDefined(dataType);
        definition.status = DataTypeStatus.Active;
        definition.definedAt = uint40(block.timestamp);
        definition.schemaHash = schemaHash;
        definition.name = name;
        definition.schemaURI = schemaURI;
        emit DataTypeDefined(dataType, name, schemaHash, schemaURI, _msgSender());
    }

    /// @inheritdoc IDataCatalog
    function updateDataTypeSchema(uint32 dataType, bytes32 schemaHash, string calldata schemaURI) external restricted {
        DataType storage definition = _activeDataType(dataType);
        if (schemaHash == 0) revert InvalidDataType(dataType);
        definition.schemaHash = schemaHash;
        definition.schemaURI = schemaURI;
        emit DataTypeSchemaUpdated(dataType, schemaHash, schemaURI, _msgSender());
    }

    /// @inheritdoc IDataCatalog
    function deprecateDataType(uint32 dataType) external restricted {
        DataType storage definition = _activeDataType(dataType);
        definition.status = DataTypeStatus.Deprecated;
        EnumerableSet.AddressSet storage issuers = _issuers[dataType];
        // Remove from the end: each removal is O(1) and the set shrinks to empty.
        for (uint256 i = issuers.length(); i > 0; --i) {
            address issuer = issuers.at(i - 1);
            issuers.remove(issuer);
            emit IssuerDeauthorised(dataType, issuer, _msgSender());
        }
        emit DataTypeDeprecated(dataType, _msgSender());
    }

    /// @inheritdoc IDataCatalog
    function authoriseIssuer(uint32 dataType, address issuer) external restricted {
        _activeDataType(dataType);
        if (issuer == address(0)) revert IssuerNotAuthorised(dataType, issuer);
        if (!_issuers[dataType].add(issuer)) revert IssuerAlreadyAuthorised(dataType, issuer);
        emit IssuerAuthorised(dataType, issuer, _msgSender());
    }

    /// @inheritdoc IDataCatalog
    function deauthoriseIssuer(uint32 dataType, address issuer) external restricted {
        if (!_issuers[dataType].remove(issuer)) revert IssuerNotAuthorised(dataType, issuer);
        emit IssuerDeauthorised(dataType, issuer, _msgSender());
    }

    /// @inheritdoc IDataCatalog
    function getDataType(uint32 dataType) external view returns (DataType memory) {
        return _dataTypes[dataType];
    }

    /// @inheritdoc IDataCatalog
    function issuersOf(uint32 dataType) external view returns (address[] memory) {
        return _issuers[dataType].values();
    }

    /// @inheritdoc IDataCatalog
    function isAuthorisedIssuer(uint32 dataType, address issuer) external view returns (bool) {
        return _issuers[dataType].contains(issuer);
    }

    /// @inheritdoc IDataCatalog
    function isDefined(uint32 dataType) external view returns (bool) {
        return _dataTypes[dataType].status != DataTypeStatus.None;
    }

    function _activeDataType(uint32 dataType) private view returns (DataType storage definition) {
        definition = _dataTypes[dataType];
        if (definition.status == DataTypeStatus.None) revert DataTypeNotDefined(dataType);
        if (definition.status == DataTypeStatus.Deprecated) revert DataTypeNotActive(dataType);
    }
}
