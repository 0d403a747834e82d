/**
 * datasafe SDK: a typed client of the datasafe contracts (data assets returned to their holders,
 * consent, access log) and the off-chain pieces integrators need (commitments, EIP-712 messages,
 * ids, the trail from events).
 */
export { DataSafeClient, type DataSafeAddresses } from "./client.js";

export { Members, type RegisterMemberInput } from "./members.js";
export { Catalog, type DefineDataTypeInput, schemaHashOf } from "./catalog.js";
export { Subjects } from "./subjects.js";
export { Assets, type AssetVerification, type IssuedAsset, type RequestReturnInput } from "./assets.js";
export { Consent, type GrantsIssued, type SignOptions, type TypedDataSigner } from "./consent.js";
export { AccessLog } from "./access-log.js";
export {
  Events,
  type BlockRange,
  type HolderAsset,
  type HolderGrant,
  type HolderRequest,
  type UsageRecord,
} from "./events.js";

export { PendingTransaction, type Mined } from "./transaction.js";

export {
  AccessDeniedError,
  ContractRevertedError,
  DataSafeError,
  DomainMismatchError,
  EventNotFoundError,
  InvalidInputError,
  SIGNATURE_REFUSALS,
  SignatureRefusedError,
  SignerRequiredError,
  TransactionFailedError,
  UnknownRevertError,
  type DataSafeErrorOptions,
  type RevertArgs,
  type RevertName,
  type SignatureRefusal,
} from "./errors.js";
export { decodeRevert, decodeRevertData } from "./revert.js";

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
