/**
 * The seed catalog as data: the six departments of Jinan's first wave (公安、人社、民政、医保、公积金中心、
 * 档案馆) and the eleven data assets their 35 data items were fused into, each with the departments
 * authorised to issue it and the fields of its schema. Type ids 1, 2 and 8 are the ones the tests
 * use. Also the purpose, outcome and reason codes the demo network agrees on: the contracts carry
 * codes, their meaning is a convention of the network.
 */

/** The issuing departments, by key. */
export const DEPARTMENTS = {
  publicSecurity: { name: "Public Security Bureau", chineseName: "公安局" },
  humanResources: { name: "Human Resources and Social Security Bureau", chineseName: "人力资源和社会保障局" },
  civilAffairs: { name: "Civil Affairs Bureau", chineseName: "民政局" },
  medicalInsurance: { name: "Medical Insurance Bureau", chineseName: "医疗保障局" },
  housingFund: { name: "Housing Provident Fund Centre", chineseName: "住房公积金管理中心" },
  archives: { name: "Municipal Archives", chineseName: "档案馆" },
} as const;

export type DepartmentKey = keyof typeof DEPARTMENTS;

/** One field of a data type's schema. */
export interface FieldDefinition {
  name: string;
  description: string;
}

/** One data type of the catalog. */
export interface DataTypeDefinition {
  /** On-chain type id. */
  id: number;
  /** On-chain name, kebab-case. */
  name: string;
  title: string;
  chineseTitle: string;
  /** Whose asset it is. */
  holder: "person" | "company";
  /** Departments authorised to issue it. */
  issuers: DepartmentKey[];
  fields: FieldDefinition[];
}

const field = (name: string, description: string): FieldDefinition => ({ name, description });

/** The eleven asset types of the seeds, in the order the seeds list them. */
export const DATA_TYPES: DataTypeDefinition[] = [
  {
    id: 1,
    name: "household-register",
    title: "Household register",
    chineseTitle: "户口本信息",
    holder: "person",
    issuers: ["publicSecurity"],
    fields: [
      field("householdNumber", "number of the household register"),
      field("relationToHead", "the holder's relation to the head of household"),
      field("registrationType", "local or non-local registration"),
      field("district", "district of registration"),
      field("registeredOn", "date of registration in the district"),
    ],
  },
  {
    id: 2,
    name: "id-card",
    title: "ID card",
    chineseTitle: "身份证件信息",
    holder: "person",
    issuers: ["publicSecurity"],
    fields: [
      field("cardNumber", "resident identity card number"),
      field("issuingOffice", "office that issued the card"),
      field("validFrom", "first day of validity"),
      field("validUntil", "last day of validity"),
    ],
  },
  {
    id: 3,
    name: "residence-permit",
    title: "Residence permit",
    chineseTitle: "居住证",
    holder: "person",
    issuers: ["publicSecurity"],
    fields: [
      field("permitNumber", "residence permit number"),
      field("district", "district of residence"),
      field("validUntil", "last day of validity"),
    ],
  },
  {
    id: 4,
    name: "violations-record",
    title: "Record of violations",
    chineseTitle: "个人违法违规记录",
    holder: "person",
    issuers: ["publicSecurity"],
    fields: [field("violations", "recorded violations"), field("checkedOn", "date of the check")],
  },
  {
    id: 5,
    name: "death-certificate",
    title: "Death certificate",
    chineseTitle: "死亡证明",
    holder: "person",
    issuers: ["civilAffairs"],
    fields: [field("certificateNumber", "certificate number"), field("dateOfDeath", "date of death")],
  },
  {
    id: 6,
    name: "marriage-certificate",
    title: "Marriage certificate",
    chineseTitle: "结婚证",
    holder: "person",
    issuers: ["civilAffairs", "archives"],
    fields: [
      field("certificateNumber", "certificate number"),
      field("registeredOn", "date of registration"),
      field("registryOffice", "marriage registry office"),
    ],
  },
  {
    id: 7,
    name: "minimum-living-allowance",
    title: "Minimum-living-allowance certificate",
    chineseTitle: "低保证明",
    holder: "person",
    issuers: ["civilAffairs"],
    fields: [
      field("certificateNumber", "certificate number"),
      field("monthlyAllowance", "allowance per month, yuan"),
      field("validUntil", "last day of entitlement"),
    ],
  },
  {
    id: 8,
    name: "personal-housing-fund",
    title: "Personal housing fund",
    chineseTitle: "公积金信息",
    holder: "person",
    issuers: ["housingFund"],
    fields: [
      field("accountNumber", "housing fund account"),
      field("monthlyContribution", "contribution per month, yuan"),
      field("balance", "balance, yuan"),
      field("paidUntil", "last month paid"),
      field("status", "account status"),
    ],
  },
  {
    id: 9,
    name: "employer-housing-fund",
    title: "Employer housing fund",
    chineseTitle: "单位公积金信息",
    holder: "company",
    issuers: ["housingFund"],
    fields: [
      field("employerAccountNumber", "employer housing fund account"),
      field("employees", "employees covered"),
      field("monthlyContribution", "contribution per month, yuan"),
      field("paidUntil", "last month paid"),
    ],
  },
  {
    id: 10,
    name: "employment-registration",
    title: "Employment registration",
    chineseTitle: "就业登记信息",
    holder: "person",
    issuers: ["humanResources"],
    fields: [
      field("employerCode", "employer's unified social credit code"),
      field("registeredOn", "date of registration"),
      field("contractType", "fixed-term or open-ended"),
    ],
  },
  {
    id: 11,
    name: "medical-insurance-payment",
    title: "Medical-insurance payment record",
    chineseTitle: "医保参保缴费证明",
    holder: "person",
    issuers: ["medicalInsurance"],
    fields: [
      field("insuranceNumber", "insured person's number"),
      field("scheme", "insurance scheme"),
      field("monthsPaid", "months paid"),
      field("paidUntil", "last month paid"),
    ],
  },
];

/** The type with the given on-chain name. */
export function dataTypeNamed(name: string): DataTypeDefinition {
  const found = DATA_TYPES.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no data type ${name} in the seed catalog`);
  return found;
}

/** The schema document of a type, as hashed into the catalog. */
export function schemaOf(type: DataTypeDefinition) {
  return { id: type.id, name: type.name, title: type.title, holder: type.holder, fields: type.fields };
}

/** Where the schema document of a type lives. */
export function schemaURIOf(type: DataTypeDefinition): string {
  return `urn:datasafe:schema:${type.name}:1`;
}

/** Purpose codes consumers declare. */
export const PURPOSES: Record<number, string> = {
  1: "a personal loan application",
  2: "school enrolment",
  3: "a business loan application",
};
export const Purpose = { PersonalLoan: 1, SchoolEnrolment: 2, BusinessLoan: 3 } as const;

/** Outcome codes consumers report. */
export const OUTCOMES: Record<number, string> = {
  1: "loan approved",
  2: "loan declined",
  3: "enrolment accepted",
};
export const Outcome = { LoanApproved: 1, LoanDeclined: 2, EnrolmentAccepted: 3 } as const;

/** Reason codes of revocations and suspensions. */
export const Reason = {
  /** An asset no longer applies (e.g. a residence permit after a local registration). */
  NoLongerApplicable: 1,
  /** A regulator's suspension pending a compliance review. */
  ComplianceReview: 2,
} as const;
