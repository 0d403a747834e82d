// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {DataTypeStatus} from "../Common.sol";

/// @title Data catalog (data dictionary)
/// @notice The types of data that can be returned to holders (household register, ID card...),
/// each with a schema reference naming its fields and the departments authorised to issue it.
/// Defining types and authorising issuers is governed. Deprecating a type is final: no new assets
/// of it, existing ones stay readable.
interface IDataCatalog {
    /// @notice A data type as stored.
    struct DataType {
        DataTypeStatus status; // active or deprecated
        uint40 definedAt; // unix seconds
        bytes32 schemaHash; // hash of the schema document (field names and encodings)
        string name; // e.g. "household-register"
        string schemaURI; // where the schema document lives
    }

    /// @notice Type id 0 is reserved, or a field is empty.
    error InvalidDataType(uint32 dataType);
    /// @notice The type id is taken.
    error DataTypeAlreadyDefined(uint32 dataType);
    /// @notice No such type.
    error DataTypeNotDefined(uint32 dataType);
    /// @notice The type is deprecated and takes no new assets or issuers.
    error DataTypeNotActive(uint32 dataType);
    /// @notice `issuer` is not authorised for `dataType` (or is the zero address).
    error IssuerNotAuthorised(uint32 dataType, address issuer);
    /// @notice `issuer` is already authorised for `dataType`.
    error IssuerAlreadyAuthorised(uint32 dataType, address issuer);

    /// @notice A data type was added to the catalog.
    /// @param dataType type id
    /// @param name type name
    /// @param schemaHash schema document hash
    /// @param schemaURI schema document location
    /// @param by governance caller
    event DataTypeDefined(uint32 indexed dataType, string name, bytes32 schemaHash, string schemaURI, address by);
    /// @notice A data type's schema reference changed.
    /// @param dataType type id
    /// @param schemaHash new schema document hash
    /// @param schemaURI new schema document location
    /// @param by governance caller
    event DataTypeSchemaUpdated(uint32 indexed dataType, bytes32 schemaHash, string schemaURI, address by);
    /// @notice A data type was deprecated: it takes no new assets.
    /// @param dataType type id
    /// @param by governance caller
    event DataTypeDeprecated(uint32 indexed dataType, address by);
    /// @notice A department may now issue a type.
    /// @param dataType type id
    /// @param issuer the department
    /// @param by governance caller
    event IssuerAuthorised(uint32 indexed dataType, address indexed issuer, address by);
    /// @notice A department may no longer issue a type (its assets stay as they are).
    /// @param dataType type id
    /// @param issuer the department
    /// @param by governance caller (or the deprecation of the type)
    event IssuerDeauthorised(uint32 indexed dataType, address indexed issuer, address by);

    /// @notice Adds a type. Governed (CATALOG_ADMIN).
    function defineDataType(
        uint32 dataType,
        string calldata name,
        bytes32 schemaHash,
        string calldata schemaURI
    ) external;

    /// @notice Points a type at a new schema version. Governed (CATALOG_ADMIN).
    function updateDataTypeSchema(uint32 dataType, bytes32 schemaHash, string calldata schemaURI) external;

    /// @notice Deprecates a type and deauthorises all its issuers. Governed (CATALOG_ADMIN).
    function deprecateDataType(uint32 dataType) external;

    /// @notice Authorises a department to issue a type. Governed (CATALOG_ADMIN). The registry also
    /// requires the issuer to be an active department member at each issue.
    function authoriseIssuer(uint32 dataType, address issuer) external;

    /// @notice Withdraws a department's authority to issue a type. Governed (CATALOG_ADMIN).
    function deauthoriseIssuer(uint32 dataType, address issuer) external;

    /// @notice The stored type (status None if undefined).
    function getDataType(uint32 dataType) external view returns (DataType memory);

    /// @notice The departments authorised for a type.
    function issuersOf(uint32 dataType) external view returns (address[] memory);

    /// @notice Whether `issuer` is authorised for `dataType` (never true for a deprecated type).
    function isAuthorisedIssuer(uint32 dataType, address issuer) external view returns (bool);

    /// @notice Whether `dataType` was ever defined (active or deprecated).
    function isDefined(uint32 dataType) external view returns (bool);
}
