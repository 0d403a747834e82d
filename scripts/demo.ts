/**
 * The datasafe story, told on the embedded network through the real Ignition modules and the SDK:
 * government departments return data to a citizen and a company (proactively, or at the citizen's
 * request signed on a phone that never pays gas; one record revoked, one superseded; a verifier
 * checks records against the chain), then a bank asks for consent, the citizen approves by signing
 * on the phone again, the bank reads once
 * (burn after reading), a school loses its grant, a regulator suspends the bank, and the citizen
 * reads back who used their data.
 *
 *   npm run demo      (builds with progress, then: npx hardhat run --no-compile scripts/demo.ts)
 *
 * No personal data: identifiers are made up, and subject ids are salted commitments to them with a
 * pepper drawn at run time.
 */
import { type BytesLike, Wallet, formatEther, hexlify, randomBytes } from "ethers";
import { network } from "hardhat";

import Permissions from "../deploy/modules/Permissions.js";
import {
  AccessAlreadyServedError,
  AccessDeniedError,
  DataSafeClient,
  Delivery,
  type Hex,
  type IssuedAsset,
  type KeyPair,
  KeySuite,
  cipherSuite,
  commitFields,
  commitRecord,
  dataTypeTarget,
  deriveSubjectId,
  discloseFields,
  newSalt,
  fieldMask,
  parseDataTypeTarget,
  payloadPointerOf,
} from "../sdk/index.js";
import {
  DATA_TYPES,
  DEPARTMENTS,
  type DepartmentKey,
  OUTCOMES,
  Outcome,
  PURPOSES,
  Purpose,
  Reason,
  dataTypeNamed,
  schemaOf,
  schemaURIOf,
} from "./catalog.js";
import { startDemoGateway, serveJsonRpc } from "./lib/demo-gateway.js";
import { step as progressStep } from "./lib/progress.js";

// --- how the story is printed ----------------------------------------------------------------------

const WIDTH = 100;
let step = 0;

function chapter(title: string): void {
  console.log(`\n${"=".repeat(WIDTH)}\n${title}\n${"=".repeat(WIDTH)}`);
}

function section(title: string): void {
  step += 1;
  console.log(`\n${step}. ${title}`);
}

/** A sentence, wrapped at the page width; continuation lines indented a little further. */
function say(text: string): void {
  let pad = "   ";
  let line = "";
  for (const word of text.split(" ")) {
    if (line.length > 0 && pad.length + line.length + 1 + word.length > WIDTH) {
      console.log(pad + line);
      pad = "     ";
      line = word;
    } else {
      line = line.length > 0 ? `${line} ${word}` : word;
    }
  }
  if (line.length > 0) console.log(pad + line);
}

const short = (hex: string): string => `${hex.slice(0, 8)}…${hex.slice(-4)}`;
const time = (seconds: number): string =>
  new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
const titleOf = (dataType: number): string => DATA_TYPES.find((t) => t.id === dataType)?.title ?? `type ${dataType}`;

/** Runs a read expected to be refused and returns the SDK's typed error. */
async function refused(attempt: () => Promise<unknown>): Promise<AccessDeniedError> {
  try {
    await attempt();
  } catch (error) {
    if (error instanceof AccessDeniedError) return error;
    throw error;
  }
  throw new Error("the read was expected to be refused and was recorded");
}

function tellRefusal(who: string, error: AccessDeniedError): void {
  say(
    `${who}'s read is refused on chain. The SDK throws ${error.name} with errorName "${error.errorName}" and ` +
      `reason "${error.reason}" (grant ${short(error.grantId)}).`,
  );
}

// --- the network ------------------------------------------------------------------------------------

const connection = await network.create();
const { ethers, ignition } = connection;
const signers = await ethers.getSigners();
const [, operator, memberAdmin, catalogAdmin, regulator, identityAuthority] = signers;
const departmentKeys = Object.keys(DEPARTMENTS) as DepartmentKey[];
const departmentSigners = Object.fromEntries(departmentKeys.map((key, i) => [key, signers[6 + i]])) as Record<
  DepartmentKey,
  (typeof signers)[number]
>;
const bankSigner = signers[12];
const schoolSigner = signers[13];
const safeBoxApp = signers[14]; // the digital-safe app's relayer: pays gas, holds no power of its own
const companyKey = signers[15]; // the company's own key
const phone = Wallet.createRandom(); // the citizen's phone: signs, never sends a transaction

const stats = { assets: 0, reads: 0, refusals: [] as string[], outcomes: 0, signatures: 0 };

chapter("datasafe: government data returned to its owners, used only with their consent");

section("The suite is deployed through the production Ignition modules");
const deployed = await progressStep("Deploying the suite through the Ignition modules", () =>
  ignition.deploy(Permissions, {
    parameters: {
      Permissions: {
        operator: operator.address,
        memberAdmin: memberAdmin.address,
        catalogAdmin: catalogAdmin.address,
        regulator: regulator.address,
      },
    },
  }),
);
const safe = new DataSafeClient(
  {
    address: await deployed.dataSafe.getAddress(),
    catalogAddress: await deployed.catalog.getAddress(),
    keyDirectoryAddress: await deployed.keyDirectory.getAddress(),
  },
  ethers.provider,
);
await safe.consent.checkDomain();
say(
  `The core contract is at ${safe.address} and the data catalog at ${safe.catalogAddress}, both governed by ` +
    `the access manager at ${await deployed.manager.getAddress()}. Separate accounts hold the operator, ` +
    `member-admin, catalog-admin and regulator roles.`,
);
say(`The SDK checked that its EIP-712 domain ("DataSafe", version "1") matches the contract's domain separator.`);

const as = (signer: Parameters<DataSafeClient["connect"]>[0]) => safe.connect(signer);
const admin = as(memberAdmin);
const catalogAdminClient = as(catalogAdmin);
const department = Object.fromEntries(departmentKeys.map((key) => [key, as(departmentSigners[key])])) as Record<
  DepartmentKey,
  DataSafeClient
>;
const authority = as(identityAuthority);
const bank = as(bankSigner);
const school = as(schoolSigner);
const app = as(safeBoxApp);
const company = as(companyKey);
const regulatorClient = as(regulator);

section("Members join the network");
// Each member keeps its private key; the key directory holds the public key payloads are sealed to.
const memberKeys = new Map<string, KeyPair>();
const newMemberKey = async (
  account: string,
  suite: KeySuite,
): Promise<{ suite: "X25519Hpke" | "Sm2"; publicKey: Hex }> => {
  const pair = await cipherSuite(suite).generateKeyPair();
  memberKeys.set(account, pair);
  return { suite: suite === KeySuite.Sm2 ? "Sm2" : "X25519Hpke", publicKey: hexlify(pair.publicKey) };
};
for (const key of departmentKeys) {
  const { name, chineseName } = DEPARTMENTS[key];
  await (
    await admin.members.register({
      account: departmentSigners[key].address,
      kind: "Department",
      name,
      metadataURI: `urn:datasafe:member:${key}`,
    })
  ).wait();
  await (
    await department[key].keys.setMemberKey(await newMemberKey(departmentSigners[key].address, KeySuite.X25519Hpke))
  ).wait();
  say(`${name} (${chineseName}) is registered as an issuing department.`);
}
const joining = [
  {
    signer: identityAuthority,
    kind: "IdentityAuthority" as const,
    name: "City Identity Authority",
    role: "an identity authority",
  },
  { signer: bankSigner, kind: "Consumer" as const, name: "City Commercial Bank", role: "a data consumer" },
  {
    signer: schoolSigner,
    kind: "Consumer" as const,
    name: "No. 1 Middle School",
    role: "a data consumer that uses the national SM2 suite",
    suite: KeySuite.Sm2,
  },
];
for (const { signer, kind, name, role, suite } of joining) {
  await (await admin.members.register({ account: signer.address, kind, name })).wait();
  const key = await newMemberKey(signer.address, suite ?? KeySuite.X25519Hpke);
  await (await as(signer).keys.setMemberKey(key)).wait();
  say(
    `${name} is registered as ${role}; it publishes its own ${key.suite === "Sm2" ? "SM2" : "X25519"} encryption key.`,
  );
}

section("The data catalog: eleven asset types, each with the departments allowed to issue it");
for (const type of DATA_TYPES) {
  await (
    await catalogAdminClient.catalog.define({
      dataType: type.id,
      name: type.name,
      schema: schemaOf(type),
      schemaURI: schemaURIOf(type),
    })
  ).wait();
  for (const issuer of type.issuers) {
    await (await catalogAdminClient.catalog.authoriseIssuer(type.id, departmentSigners[issuer].address)).wait();
  }
  const issuers = type.issuers.map((k) => `the ${DEPARTMENTS[k].name}`).join(" and ");
  say(`Type ${type.id}, ${type.title} (${type.chineseTitle}): issued by ${issuers}.`);
}

section("A citizen and a company get a digital safe");
const pepper = newSalt();
const citizenId = deriveSubjectId(pepper, "resident-id", "DEMO-RESIDENT-0001");
const companyId = deriveSubjectId(pepper, "uscc", "DEMO-COMPANY-0001");
const registered = await (
  await authority.subjects.registerMany([
    { subjectId: citizenId, controller: phone.address },
    { subjectId: companyId, controller: companyKey.address },
  ])
).wait();
say(
  `The identity authority registers ${registered.subjectIds.length} subjects. On chain they are only ` +
    `pseudonymous ids, salted commitments to made-up identifiers with a pepper drawn for this run: the ` +
    `citizen is ${short(citizenId)} and the company ${short(companyId)}.`,
);
say(
  `The citizen's key is a fresh wallet on their phone (${short(phone.address)}) with a balance of ` +
    `${formatEther(await ethers.provider.getBalance(phone.address))} ETH: it will sign, and never send a transaction.`,
);
// The safe box's own encryption key: records released to the citizen are sealed to it.
const safeBoxKey = await cipherSuite(KeySuite.X25519Hpke).generateKeyPair();
const holderKey = { subjectId: citizenId, suite: "X25519Hpke" as const, publicKey: hexlify(safeBoxKey.publicKey) };
await (await app.keys.setHolderKeyBySig(holderKey, await app.keys.signHolderKey(phone, holderKey))).wait();
say(
  `The safe-box app makes an X25519 key pair on the phone; the phone signs its public key and the app ` +
    `relays it to the key directory, bound to the citizen and to this phone's key.`,
);

// --- issue #3: the return of data -----------------------------------------------------------------------

chapter("Returning data to its owners (还数于民)");

/** What a holder keeps off chain for each asset: the record and its salt. */
interface HeldRecord {
  asset: IssuedAsset;
  record: Record<string, unknown>;
  salt: Hex;
}
const ciphertext = (): BytesLike => randomBytes(128); // stands in for the payload encrypted to the holder
const held: Record<string, HeldRecord> = {};

section("Proactive return: the Public Security Bureau returns three records in one batch");
const householdRecord = {
  householdNumber: "DEMO-HH-000001",
  relationToHead: "head",
  registrationType: "local",
  district: "Lixia",
  registeredOn: "2015-06-01",
};
const idCardRecord = {
  cardNumber: "DEMO-ID-000001",
  issuingOffice: "Lixia branch",
  validFrom: "2016-03-01",
  validUntil: "2036-03-01",
};
const permitRecord = { permitNumber: "DEMO-RP-000001", district: "Lixia", validUntil: "2026-12-31" };
// The household register is committed field by field, so its holder can later disclose one field.
const householdFields = commitFields(householdRecord);
const idCard = commitRecord(idCardRecord);
const permit = commitRecord(permitRecord);
const batch = await (
  await department.publicSecurity.assets.issueBatch([
    {
      subjectId: citizenId,
      dataType: 1,
      contentCommitment: householdFields.root,
      payloadPointer: payloadPointerOf(ciphertext()),
    },
    {
      subjectId: citizenId,
      dataType: 2,
      contentCommitment: idCard.commitment,
      payloadPointer: payloadPointerOf(ciphertext()),
    },
    {
      subjectId: citizenId,
      dataType: 3,
      contentCommitment: permit.commitment,
      payloadPointer: payloadPointerOf(ciphertext()),
    },
  ])
).wait();
held.household = { asset: batch.assets[0], record: householdRecord, salt: householdFields.salt };
held.idCard = { asset: batch.assets[1], record: idCardRecord, salt: idCard.salt };
held.permit = { asset: batch.assets[2], record: permitRecord, salt: permit.salt };
stats.assets += batch.assets.length;
say(
  `One transaction returns the household register, the ID card and the residence permit: assets ` +
    `${batch.assets.map((a) => short(a.assetId)).join(", ")}. The chain holds only salted commitments and ` +
    `pointers to encrypted copies; the records and their salts go to the citizen's safe.`,
);

section("Proactive return by the other departments");
const issueOne = async (
  from: DepartmentKey,
  subjectId: Hex,
  typeName: string,
  record: Record<string, unknown>,
): Promise<HeldRecord> => {
  const type = dataTypeNamed(typeName);
  const { commitment, salt } = commitRecord(record);
  const asset = await (
    await department[from].assets.issue({
      subjectId,
      dataType: type.id,
      contentCommitment: commitment,
      payloadPointer: payloadPointerOf(ciphertext()),
    })
  ).wait();
  stats.assets += 1;
  const whose = subjectId === companyId ? "the company's " : "the ";
  say(`${DEPARTMENTS[from].name} returns ${whose}${type.title.toLowerCase()}: asset ${short(asset.assetId)}.`);
  return { asset, record, salt };
};
held.housingFund = await issueOne("housingFund", citizenId, "personal-housing-fund", {
  accountNumber: "DEMO-HF-000001",
  monthlyContribution: 1200,
  balance: 86400,
  paidUntil: "2025-09",
  status: "normal",
});
held.employment = await issueOne("humanResources", citizenId, "employment-registration", {
  employerCode: "DEMO-USCC-0001",
  registeredOn: "2019-07-15",
  contractType: "open-ended",
});
held.medical = await issueOne("medicalInsurance", citizenId, "medical-insurance-payment", {
  insuranceNumber: "DEMO-MI-000001",
  scheme: "urban employee",
  monthsPaid: 74,
  paidUntil: "2025-09",
});
held.marriage = await issueOne("archives", citizenId, "marriage-certificate", {
  certificateNumber: "DEMO-MC-000001",
  registeredOn: "2012-10-01",
  registryOffice: "Lixia marriage registry",
});
held.employerFund = await issueOne("housingFund", companyId, "employer-housing-fund", {
  employerAccountNumber: "DEMO-EHF-0001",
  employees: 48,
  monthlyContribution: 57600,
  paidUntil: "2025-09",
});

section("Return on the holder's request: the citizen asks for a record of violations, by signature");
const violations = dataTypeNamed("violations-record");
const returnAsk = {
  subjectId: citizenId,
  dataType: violations.id,
  department: departmentSigners.publicSecurity.address,
};
const returnSignature = await app.consent.signReturnRequest(phone, returnAsk);
stats.signatures += 1;
say(
  `The citizen's phone signs an EIP-712 RequestReturn message asking the Public Security Bureau for ` +
    `their ${violations.title.toLowerCase()} (nonce ${returnSignature.nonce}, valid until ` +
    `${time(Number(returnSignature.deadline))}). It sends nothing.`,
);
const { requestId: returnRequestId } = await (await app.assets.requestReturnBySig(returnAsk, returnSignature)).wait();
say(
  `The safe-box app relays the signature and pays for it: return request ${short(returnRequestId)} is open. ` +
    `Any funded account could have relayed it; none could have changed what the phone asked for.`,
);
const violationsRecord = { violations: [], checkedOn: "2025-10-08" };
const violationsCommitment = commitRecord(violationsRecord);
const fulfilled = await (
  await department.publicSecurity.assets.fulfilReturnRequest(returnRequestId, {
    subjectId: citizenId,
    dataType: violations.id,
    contentCommitment: violationsCommitment.commitment,
    payloadPointer: payloadPointerOf(ciphertext()),
  })
).wait();
held.violations = { asset: fulfilled, record: violationsRecord, salt: violationsCommitment.salt };
stats.assets += 1;
const returnRequest = await safe.assets.getReturnRequest(returnRequestId);
say(
  `The bureau answers with asset ${short(fulfilled.assetId)}; the request is now ${returnRequest.status.toLowerCase()}.`,
);

section("A record is revoked, another superseded by a new version");
await (await department.publicSecurity.assets.revoke(held.permit.asset.key, Reason.NoLongerApplicable)).wait();
say(`The citizen's household is registered locally, so the Public Security Bureau revokes the residence permit.`);
const oldFund = held.housingFund;
const newFundRecord = { ...oldFund.record, balance: 87600, paidUntil: "2025-10" };
const newFundCommitment = commitRecord(newFundRecord);
const superseded = await (
  await department.housingFund.assets.supersede(oldFund.asset.key, {
    subjectId: citizenId,
    dataType: 8,
    contentCommitment: newFundCommitment.commitment,
    payloadPointer: payloadPointerOf(ciphertext()),
  })
).wait();
held.housingFund = { asset: superseded, record: newFundRecord, salt: newFundCommitment.salt };
stats.assets += 1;
say(
  `October's contribution is posted: the Housing Provident Fund Centre supersedes the housing-fund record ` +
    `${short(superseded.previousAssetId)} with a new version ${short(superseded.assetId)}.`,
);

section("A verifier checks records against the chain");
const verifier = safe; // anyone with a node: no role, no key
const check = async (label: string, issuer: string, dataType: number, h: { record: unknown; salt: Hex }) => {
  const result = await verifier.assets.verifyRecord({
    issuer,
    subjectId: citizenId,
    dataType,
    record: h.record,
    salt: h.salt,
  });
  const verdict = result.valid
    ? "valid"
    : `not valid (on chain: ${result.status === "None" ? "no such asset" : result.status.toLowerCase()})`;
  say(`${label}: ${verdict}.`);
};
await check("The marriage certificate the citizen shows", departmentSigners.archives.address, 6, held.marriage);
await check("The same certificate with its date altered", departmentSigners.archives.address, 6, {
  record: { ...held.marriage.record, registeredOn: "2011-10-01" },
  salt: held.marriage.salt,
});
await check("The revoked residence permit", departmentSigners.publicSecurity.address, 3, held.permit);
await check("September's housing-fund record", departmentSigners.housingFund.address, 8, oldFund);
await check("October's housing-fund record", departmentSigners.housingFund.address, 8, held.housingFund);

section("What the citizen's safe holds, rebuilt from events");
for (const a of await app.events.assetsOf(citizenId)) {
  const status = a.valid
    ? "valid"
    : a.status === "Superseded"
      ? `superseded by ${short(a.supersededBy ?? "")}`
      : a.status.toLowerCase();
  say(`${titleOf(a.key.dataType)} from the ${a.issuerName}, returned ${time(a.issuedAt)}: ${status}.`);
}

// --- issue #7: the data itself, encrypted to whoever may read it -----------------------------------------

chapter("Encrypted delivery (对方加密): the payloads reach their readers");

section("The departments deposit the payloads of the valid records at the payload gateway");
const rpc = await serveJsonRpc(connection.provider);
const gatewayTarget = {
  rpcUrl: rpc.url,
  chainId: Number((await ethers.provider.getNetwork()).chainId),
  addresses: { dataSafe: safe.address, keyDirectory: await deployed.keyDirectory.getAddress() },
  schemas: DATA_TYPES.map(schemaOf),
};
const gateway = await progressStep("Starting the payload gateway (npm run gateway)", () =>
  startDemoGateway(gatewayTarget),
);
const delivery = new Delivery(safe, gateway.url);
/** Blocks the gateway waits for on top of a read before it serves it (its `confirmations`). */
const confirm = () => ethers.provider.send("evm_mine", []);
const departmentOf = new Map(departmentKeys.map((key) => [departmentSigners[key].address, key]));
let deposited = 0;
for (const [name, h] of Object.entries(held)) {
  if (!(await safe.assets.isValid(h.asset.assetId))) continue; // the revoked permit, the superseded fund record
  const issuer = departmentOf.get(h.asset.key.issuer)!;
  await delivery.connect(department[issuer]).upload({
    subjectId: h.asset.key.subjectId,
    dataType: h.asset.key.dataType,
    scheme: name === "household" ? "fields" : "record",
    record: h.record,
    salt: h.salt,
  });
  deposited += 1;
}
say(
  `The gateway runs as its own process and checks each upload against the chain: it stores a payload only if ` +
    `the record and salt recompute the asset's commitment and the uploader issued it. ${deposited} payloads are ` +
    `stored encrypted at rest; the revoked permit and the superseded record are not.`,
);

section("The citizen's safe box fetches the ID card and opens it on the phone");
const idCardRelease = await delivery.fetchAsHolder({ assetId: held.idCard.asset.assetId, subjectId: citizenId }, phone);
const ownCopy = await delivery.receive(idCardRelease, safeBoxKey);
if (ownCopy.payload.kind !== "record") throw new Error("a holder's fetch releases the whole record");
stats.signatures += 1;
say(
  `The phone signs a one-time fetch request; the gateway checks that the phone controls the citizen's safe and ` +
    `seals the record to the safe box's key. Opened on the phone: card ` +
    `${(ownCopy.payload.record as typeof idCardRecord).cardNumber}, matching the valid asset on chain ` +
    `(${ownCopy.verification.valid ? "verified" : "NOT verified"}).`,
);

// --- issue #4: consent --------------------------------------------------------------------------------

chapter("Consent on chain (个人链上授权): a bank loan");

section("The bank asks the citizen for consent");
const now = async (): Promise<number> => (await ethers.provider.getBlock("latest"))!.timestamp;
const { request } = await (
  await bank.consent.requestAccess({
    subjectId: citizenId,
    scope: "DataType",
    targets: [
      dataTypeTarget(departmentSigners.housingFund.address, 8),
      dataTypeTarget(departmentSigners.publicSecurity.address, 1),
    ],
    purpose: Purpose.PersonalLoan,
    grantDuration: 7 * 24 * 60 * 60,
    maxReads: 1,
    expiresAt: (await now()) + 60 * 60,
  })
).wait();
say(
  `City Commercial Bank files an access request for the citizen's personal housing fund and household ` +
    `register, for ${PURPOSES[Purpose.PersonalLoan]}.`,
);
const [pending] = (await app.events.requestsOf(citizenId)).filter((r) => r.status === "Open");
say(
  `The citizen's safe-box app finds it in the chain's events: "${pending.consumerName} asks for ` +
    `${pending.request.targets.map((t) => titleOf(parseDataTypeTarget(t).dataType).toLowerCase()).join(" and ")}, ` +
    `for ${PURPOSES[pending.request.purpose]}, ${pending.request.maxReads} read each within ` +
    `${pending.request.grantDuration / 86400} days; answer by ${time(pending.request.expiresAt)}."`,
);

section("The citizen approves by signing on the phone; the app relays the signature");
const approval = await app.consent.signApproval(phone, request);
stats.signatures += 1;
say(
  `The phone signs an EIP-712 ApproveAccessRequest message (nonce ${approval.nonce}, valid until ` +
    `${time(Number(approval.deadline))}). It sends nothing.`,
);
const approved = await (await app.consent.approveBySig(request, approval)).wait();
say(
  `The safe-box app submits the signature and pays for it. ${approved.grants.length} grants are issued: ` +
    approved.grants
      .map((g) => `${titleOf(parseDataTypeTarget(g.key.target).dataType).toLowerCase()} (${short(g.grantId)})`)
      .join(" and ") +
    `, each for ${approved.grants[0].maxReads} read, until ${time(approved.grants[0].expiresAt)}.`,
);
say(`The phone's balance is still ${formatEther(await ethers.provider.getBalance(phone.address))} ETH.`);

section("The bank reads each record once: burn after reading (阅后即焚)");
const fundRead = await (
  await bank.accessLog.recordAccess({
    asset: held.housingFund.asset.key,
    scope: "DataType",
    purpose: Purpose.PersonalLoan,
  })
).wait();
stats.reads += 1;
await confirm();
const bankDelivery = delivery.connect(bank);
const fundRelease = await bankDelivery.fetchAsConsumer(fundRead);
const fundCopy = await bankDelivery.receive(fundRelease, memberKeys.get(bankSigner.address)!);
if (fundCopy.payload.kind !== "record") throw new Error("the bank's grant covers the whole record");
say(
  `The read of the housing-fund record is logged on chain (read ${fundRead.readNumber} of ${fundRead.maxReads}). ` +
    `The bank presents that read to the payload gateway, which checks it on chain and releases the record sealed ` +
    `to the bank's key. The bank decrypts it (balance ${(fundCopy.payload.record as typeof newFundRecord).balance}, ` +
    `paid until ${(fundCopy.payload.record as typeof newFundRecord).paidUntil}) and checks it against the chain: ` +
    `${fundCopy.verification.valid ? "it matches the valid asset" : "no match"}.`,
);
try {
  await bankDelivery.fetchAsConsumer(fundRead);
  throw new Error("a second fetch of one read was served");
} catch (error) {
  if (!(error instanceof AccessAlreadyServedError)) throw error;
  stats.refusals.push(error.code);
  say(`Fetching the same read again is refused by the gateway (${error.code}): each read releases the data once.`);
}
const householdRead = await (
  await bank.accessLog.recordAccess({
    asset: held.household.asset.key,
    scope: "DataType",
    purpose: Purpose.PersonalLoan,
  })
).wait();
stats.reads += 1;
const disclosure = discloseFields(householdRecord, householdFields.salt, ["registrationType"]);
const disclosed = await bank.assets.verifyDisclosure({
  issuer: departmentSigners.publicSecurity.address,
  subjectId: citizenId,
  dataType: 1,
  disclosure,
});
say(
  `For the household register the citizen discloses a single field: the bank learns registrationType = ` +
    `"${String(disclosure.fields[0].value)}" and nothing else, and proves it against the asset's commitment ` +
    `(${disclosed.valid ? "proof valid" : "proof invalid"}; read ${householdRead.readNumber} of ${householdRead.maxReads}).`,
);

section("A second read is refused");
const exhausted = await refused(async () =>
  (
    await bank.accessLog.recordAccess({
      asset: held.housingFund.asset.key,
      scope: "DataType",
      purpose: Purpose.PersonalLoan,
    })
  ).wait(),
);
stats.refusals.push(exhausted.reason);
tellRefusal("The bank", exhausted);

section("The bank reports the outcome");
const loanFile = commitRecord({ loanFile: "DEMO-LOAN-000001", amount: 200000, termMonths: 36 });
await (await bank.accessLog.recordOutcome(fundRead, Outcome.LoanApproved, loanFile.commitment)).wait();
stats.outcomes += 1;
say(
  `City Commercial Bank records the feedback "${OUTCOMES[Outcome.LoanApproved]}" against its read, with a ` +
    `commitment to its loan file (${short(loanFile.commitment)}).`,
);

chapter("Consent withdrawn, a consumer suspended");

section("The citizen grants the school access by signature, then revokes it");
const householdSchema = dataTypeNamed("household-register").fields.map((f) => f.name);
const districtOnly = fieldMask(householdSchema, ["district"]);
const enrolmentTerms = {
  subjectId: citizenId,
  consumers: [schoolSigner.address],
  scope: "Asset" as const,
  targets: [held.household.asset.assetId],
  purpose: Purpose.SchoolEnrolment,
  expiresAt: (await now()) + 30 * 24 * 60 * 60,
  maxReads: 3,
  fields: districtOnly,
};
const grantSignature = await app.consent.signGrant(phone, enrolmentTerms);
stats.signatures += 1;
const [schoolGrant] = (await (await app.consent.grantBySig(enrolmentTerms, grantSignature)).wait()).grants;
say(
  `The phone signs a direct grant to No. 1 Middle School: only the district field of the household register, ` +
    `for ${PURPOSES[Purpose.SchoolEnrolment]}, up to ${schoolGrant.maxReads} reads until ${time(schoolGrant.expiresAt)}.`,
);
const schoolRead = await (
  await school.accessLog.recordAccess({
    asset: held.household.asset.key,
    purpose: Purpose.SchoolEnrolment,
    fields: districtOnly,
  })
).wait();
stats.reads += 1;
await confirm();
const schoolDelivery = delivery.connect(school);
const schoolRelease = await schoolDelivery.fetchAsConsumer(schoolRead);
const schoolCopy = await schoolDelivery.receive(schoolRelease, memberKeys.get(schoolSigner.address)!);
if (schoolCopy.payload.kind !== "disclosure") throw new Error("the school's grant names fields");
say(
  `The school reads it (read ${schoolRead.readNumber} of ${schoolRead.maxReads}, fields: district) and fetches it ` +
    `from the gateway under the national suite (SM2 + SM4-GCM, its key's suite). It receives ` +
    schoolCopy.payload.disclosure.fields.map((f) => `${f.name} = "${String(f.value)}"`).join(", ") +
    `, with its salt and Merkle proof, and nothing else of the record; the proof checks against the asset's ` +
    `on-chain commitment (${schoolCopy.verification.valid ? "verified" : "NOT verified"}).`,
);
const revocation = await app.consent.signRevocation(phone, schoolGrant.key);
stats.signatures += 1;
await (await app.consent.revokeBySig(schoolGrant.key, revocation)).wait();
say(`The citizen changes their mind: the phone signs a revocation and the app relays it.`);
const revoked = await refused(async () =>
  (
    await school.accessLog.recordAccess({
      asset: held.household.asset.key,
      purpose: Purpose.SchoolEnrolment,
    })
  ).wait(),
);
stats.refusals.push(revoked.reason);
tellRefusal("The school", revoked);

section("The company grants the bank its employer housing-fund record; the regulator suspends the bank");
const businessLoan = await (
  await company.consent.grant({
    subjectId: companyId,
    consumers: [bankSigner.address],
    targets: [held.employerFund.asset.assetId],
    purpose: Purpose.BusinessLoan,
    expiresAt: (await now()) + 7 * 24 * 60 * 60,
    maxReads: 2,
  })
).wait();
say(
  `The company's key grants City Commercial Bank ${businessLoan.grants[0].maxReads} reads of its employer ` +
    `housing-fund record for ${PURPOSES[Purpose.BusinessLoan]}.`,
);
await (await regulatorClient.members.suspend(bankSigner.address, Reason.ComplianceReview)).wait();
const bankStatus = (await safe.members.get(bankSigner.address)).status;
say(
  `The regulator suspends City Commercial Bank pending a compliance review (its status is now ${bankStatus.toLowerCase()}).`,
);
const suspended = await refused(async () =>
  (
    await bank.accessLog.recordAccess({
      asset: held.employerFund.asset.key,
      purpose: Purpose.BusinessLoan,
    })
  ).wait(),
);
stats.refusals.push(suspended.reason);
tellRefusal("The bank", suspended);
say(`The grant itself is untouched: the suspension stops the bank, not the company's consent.`);

// --- the trail -------------------------------------------------------------------------------------------

chapter("Who used my data? (全程追溯)");

section("The citizen's usage record, rebuilt from AccessRecorded, GrantIssued and AssetIssued events");
for (const use of await app.events.usageOf(citizenId)) {
  const how = use.requestId ? `consent by request ${short(use.requestId)}` : "direct consent";
  const outcome =
    use.outcome === undefined ? "no outcome reported yet" : `outcome: ${OUTCOMES[use.outcome] ?? use.outcome}`;
  say(
    `${time(use.readAt)}  ${use.consumerName} read the ${titleOf(use.dataType).toLowerCase()} (from the ${use.issuerName}) ` +
      `for ${PURPOSES[use.purpose] ?? `purpose ${use.purpose}`}: read ${use.readNumber} of ${use.maxReads}, ${how}, ${outcome}.`,
  );
}

section("The citizen's consents and requests");
const typeOfAsset = new Map((await app.events.assetsOf(citizenId)).map((a) => [a.assetId, a.key.dataType]));
for (const g of await app.events.grantsOf(citizenId)) {
  const what =
    g.key.scope === "DataType"
      ? `whichever ${titleOf(parseDataTypeTarget(g.key.target).dataType).toLowerCase()} record is current`
      : `that one ${titleOf(typeOfAsset.get(g.key.target) ?? 0).toLowerCase()} record`;
  say(
    `${g.consumerName}'s grant covers ${what}, for ${PURPOSES[g.key.purpose]}: ${g.reads} of ${g.maxReads} ` +
      `reads used, now ${g.status.toLowerCase()}.`,
  );
}
for (const r of await app.events.requestsOf(citizenId)) {
  say(`Request ${short(r.requestId)} from ${r.consumerName}, filed ${time(r.requestedAt)}: ${r.status.toLowerCase()}.`);
}

section("The regulator's view of the whole network");
const trail = await regulatorClient.events.accessTrail({});
const byConsumer = new Map<string, number>();
for (const use of trail) byConsumer.set(use.consumerName, (byConsumer.get(use.consumerName) ?? 0) + 1);
say(
  `${trail.length} reads recorded on chain: ` +
    [...byConsumer].map(([name, n]) => `${n} by ${name}`).join(", ") +
    `; ${trail.filter((u) => u.outcome !== undefined).length} with a reported outcome. Refused reads leave no ` +
    `record: they revert, and the consumer's software sees why.`,
);

await gateway.stop();
await rpc.close();

console.log(
  `\nSummary: ${departmentKeys.length} departments, ${DATA_TYPES.length} data types, ${stats.assets} assets returned ` +
    `(1 on request, 1 revoked, 1 superseded), ${stats.reads} reads logged, ${stats.refusals.length} refused ` +
    `(${stats.refusals.join(", ")}), ${stats.outcomes} outcome reported; the citizen's phone signed ${stats.signatures} times and paid ` +
    `${formatEther(await ethers.provider.getBalance(phone.address))} ETH.`,
);
