/**
 * datasafe SDK: a typed client of the datasafe contracts (data assets returned to their holders,
 * consent, access log) and the off-chain pieces integrators need (commitments, EIP-712 messages,
 * ids, the trail from events).
 */
export { DataSafeClient, type DataSafeAddresses, type DataSafeClientOptions } from "./client.js";
export {
  SUITE_FUTURE_IDS,
  deploymentBlockOf,
  parseIgnitionJournal,
  readIgnitionDeployment,
  suiteOf,
  type DeployedContract,
  type IgnitionDeployment,
} from "./deployment.js";
export {
  LOG_QUERY_DEFAULTS,
  classifyLogError,
  halves,
  pageRanges,
  type BlockSpan,
  type LogErrorKind,
  type LogQueryOptions,
} from "./logs.js";

export { Members, type RegisterMemberInput } from "./members.js";
export { Catalog, type DefineDataTypeInput, schemaHashOf } from "./catalog.js";
export { Subjects } from "./subjects.js";
export { Assets, type AssetVerification, type IssuedAsset, type RequestReturnInput } from "./assets.js";
export { Consent, type GrantsIssued, type SignOptions, type TypedDataSigner } from "./consent.js";
export { AccessLog } from "./access-log.js";
export {
  KEY_DIRECTORY_TYPES,
  Keys,
  PUBLIC_KEY_LENGTH,
  isSm2Point,
  keyDirectoryDomain,
  publicKeyOf,
  setHolderKeyTypeHash,
  setHolderKeyTypedData,
  type HolderKeyAuthorization,
  type HolderKeyInput,
  type HolderKeySet,
  type KeySignOptions,
  type PublicKeyInput,
  type SettableKeySuite,
} from "./keys.js";
export {
  Events,
  type BlockRange,
  type HolderAsset,
  type HolderGrant,
  type HolderRequest,
  type UsageRecord,
} from "./events.js";

export {
  IMPORT_COLUMNS,
  IMPORT_LIMITS,
  ImportInputError,
  REQUIRED_IMPORT_COLUMNS,
  formatOf,
  parseImportText,
  readImportFile,
  type ImportColumn,
  type ImportFormat,
  type ImportIssue,
  type ImportRow,
  type ParseImportOptions,
  type ReadImportOptions,
} from "./bulk-input.js";
export {
  DEFAULT_MAX_CALLDATA_BYTES,
  DEFAULT_MAX_GAS_PER_TRANSACTION,
  ImportIncompleteError,
  ImportJournalError,
  importAssets,
  issueAssetsCalldata,
  type ImportOptions,
  type ImportProgress,
  type ImportReport,
  type RefusedRow,
} from "./bulk.js";

export { Delivery, type DeliveredRelease, type DeliverySigner, type DeliveryVerification } from "./delivery.js";
export {
  DELIVERY_PROBLEMS,
  DELIVERY_TYPES,
  GATEWAY_ROUTES,
  consumerFetchTypedData,
  gatewayDomain,
  holderFetchTypedData,
  releaseAad,
  uploadTypedData,
  type CommitmentScheme,
  type DeliveryProblemCode,
  type ProblemBody,
  type Release,
  type ReleasedPayload,
  type UploadResult,
} from "./delivery-protocol.js";
export * from "./delivery-errors.js";

export {
  URI_SCHEME,
  URI_VERSION,
  UriFormatError,
  approvalUri,
  approveUri,
  parseApprovalUri,
  parseApproveUri,
  parseUri,
  parseVerifyUri,
  verifyUri,
  type ApprovalUri,
  type ApproveUri,
  type DataSafeUri,
  type ShownRequest,
  type VerifyUri,
} from "./uri.js";
export {
  RequestNotApprovableError,
  UriMismatchError,
  checkApproveUri,
  findRequest,
  relayApprovalUri,
  signApproveUri,
  type CheckOptions,
  type CheckedRequest,
  type SchemaSource,
  type ShownTarget,
} from "./scan.js";
export { PendingTransaction, type Mined } from "./transaction.js";

export {
  AccessDeniedError,
  ContractRevertedError,
  DataSafeError,
  DeploymentRecordError,
  DomainMismatchError,
  EventNotFoundError,
  InvalidInputError,
  LogQueryError,
  SIGNATURE_REFUSALS,
  SignatureRefusedError,
  SignerRequiredError,
  TransactionFailedError,
  UnknownRevertError,
  type DataSafeErrorOptions,
  type LogQueryFailure,
  type RevertArgs,
  type RevertName,
  type SignatureRefusal,
} from "./errors.js";
export { decodeRevert, decodeRevertData } from "./revert.js";

export {
  DecryptionError,
  ENVELOPE_VERSION,
  InvalidKeyError,
  KeySuite,
  UnsupportedSuiteError,
  cipherSuite,
  envelopeHeader,
  openWith,
  sealTo,
  type CipherSuite,
  type DecryptionFailure,
  type EnvelopeHeader,
  type KeyPair,
  type OpeningKey,
  type PublicKey,
  type RecipientKey,
} from "./crypto/index.js";

export {
  canonicalJson,
  commitFields,
  commitRecord,
  deriveSubjectId,
  discloseFields,
  newSalt,
  payloadPointerOf,
  recordDigest,
  verifyDisclosure,
  verifyRecord,
  type DisclosedField,
  type Disclosure,
  type FieldCommitment,
  type FieldCommitments,
  type RecordCommitment,
} from "./commitments.js";

export {
  TYPES,
  approveRequestTypedData,
  dataSafeDomain,
  domainSeparatorOf,
  grantTypedData,
  hashTypedData,
  recoverTypedDataSigner,
  rejectRequestTypedData,
  requestReturnTypedData,
  revokeTypedData,
  typeHashOf,
  type PrimaryType,
  type SignatureTerms,
  type TypedDataPayload,
} from "./typed-data.js";

export { MAX_FIELDS, WHOLE_RECORD, coversFields, fieldMask, fieldNamesOf } from "./fields.js";
export { EPOCH_SHIFT, FULL_WORD, nonceOf, nonceParts, nonceWordOf, type NonceParts } from "./nonces.js";

export {
  accessIdOf,
  assetIdOf,
  dataTypeTarget,
  grantIdOf,
  parseDataTypeTarget,
  requestIdOf,
  subjectTagOf,
} from "./ids.js";

export {
  DEFAULTS,
  type GrantKeyInput,
  type GrantTermsInput,
  type NewAssetInput,
  type RecordAccessInput,
  type RequestAccessInput,
} from "./requests.js";

export {
  DEFAULT_SIGNATURE_LIFETIME,
  EIP712_NAME,
  EIP712_VERSION,
  ENUMS,
  KEY_DIRECTORY_EIP712_NAME,
  KEY_DIRECTORY_EIP712_VERSION,
  MAX_GRANTS_PER_CALL,
  enumName,
  enumValue,
  type AccessCheck,
  type AccessRequestStatus,
  type AssetStatus,
  type DataTypeStatus,
  type EnumMember,
  type EnumName,
  type GrantScope,
  type GrantStatus,
  // The crypto module's numeric `KeySuite` enum keeps the plain name; the names' union is this.
  type KeySuite as KeySuiteName,
  type MemberKind,
  type MemberStatus,
  type ReturnRequestStatus,
} from "./constants.js";

export type {
  AccessRecord,
  AccessRequest,
  Address,
  Asset,
  AssetKey,
  Authorization,
  DataType,
  EncryptionKey,
  Grant,
  GrantKey,
  GrantTerms,
  Hex,
  IssuedGrant,
  Member,
  Recovery,
  ReturnRequest,
  RevocationAuthorization,
  Subject,
} from "./types.js";
