/*
 * Labels of the page in Chinese (the default: the regulators are Chinese city agencies) and English.
 * Elements carry `data-i18n="key"` (text), `data-i18n-placeholder` or `data-i18n-aria-label`;
 * scripts call `t(key, params)`. The choice is kept in localStorage under `datasafe.lang`.
 */

const STORAGE_KEY = "datasafe.lang";

/** Every label, by language. A key missing in one language is a bug the browser test catches. */
export const LABELS = {
  zh: {
    title: "数据保险箱 · 监管看板",
    subtitle: "授权、读取与结果的全程追溯",
    switchLanguage: "English",
    switchLanguageLabel: "切换到英文",
    signOut: "退出登录",
    signedInAs: "已登录：{address}（监管机构）",
    statusLabel: "索引状态",
    statusLoading: "正在读取索引状态…",
    statusLine: "已索引区块 {indexed} / 最新 {head} · 落后 {lag} 块（{seconds} 秒）",
    statusReady: "已同步",
    statusBehind: "追赶中",
    statusDown: "索引服务不可达",
    signInHeading: "监管机构登录",
    signInIntro: "使用在册监管机构成员的密钥签署登录消息（EIP-4361）。链上核验成员类型。",
    signInWallet: "使用浏览器钱包登录",
    signInWalletMissing: "未检测到浏览器钱包（EIP-1193）。",
    signInPasteHeading: "或：粘贴签名",
    signInAddress: "监管机构地址",
    signInPrepare: "生成登录消息",
    signInMessage: "待签名消息（用任意签名工具以 personal_sign 签署）",
    signInSignature: "签名（0x…）",
    signInSubmit: "提交签名",
    signInWorking: "正在核验…",
    signInRefused: "登录被拒绝：该账户不是在册且有效的监管机构成员。",
    signInHolder: "此看板仅供监管机构使用；持有人请使用数据保险箱应用查看本人记录。",
    signInInvalid: "登录失败：签名或消息无效、已过期或已使用（{code}）。",
    signInError: "登录失败：{message}",
    badAddress: "地址格式不正确（应为 0x 开头的 40 位十六进制）。",
    chartsHeading: "统计",
    chartDaily: "每日读取量",
    chartConsumer: "各使用机构读取量",
    chartDataType: "各数据类型读取量",
    chartOutcome: "读取 → 贷款批准 转化率（按使用机构）",
    seriesReads: "读取次数",
    seriesApproved: "批准的结果",
    seriesRatio: "转化率",
    ratioTooltip: "{name}：{approved} / {reads} = {ratio}",
    noData: "暂无数据",
    totals: "合计：读取 {reads} 次，报告结果 {outcomes} 项，批准 {approved} 项",
    searchHeading: "追溯查询",
    searchLabel: "持有人 ID、使用机构地址、资产 ID、授权 ID 或读取记录 ID",
    searchButton: "查询",
    searchEmpty: "请输入要查询的 ID 或地址。",
    searchNotFound: "未找到：{q}",
    searchKind_holder: "持有人",
    searchKind_consumer: "使用机构",
    searchKind_asset: "资产",
    searchKind_grant: "授权",
    searchKind_read: "读取记录",
    searchResult: "{kind} {id}：共 {count} 条读取记录",
    searchTruncated: "（仅显示前 {count} 条）",
    colTime: "时间",
    colBlock: "区块",
    colConsumer: "使用机构",
    colDataType: "数据类型",
    colIssuer: "签发部门",
    colPurpose: "用途",
    colRead: "第几次 / 上限",
    colGrant: "授权 ID",
    colAsset: "资产 ID",
    colOutcome: "结果",
    colTx: "交易",
    outcomeNone: "未报告",
    outcomeApproved: "批准",
    outcomeCode: "代码 {code}",
    alertsHeading: "告警",
    alertsEmpty: "暂无告警。",
    alertRule: "规则",
    alertSeverity: "级别",
    alertConsumer: "使用机构",
    alertSubject: "持有人",
    alertAt: "区块 {block} · {time}",
    alertEvents: "触发事件",
    colEventKind: "事件",
    colEventId: "ID",
    severity_low: "低",
    severity_medium: "中",
    severity_high: "高",
    severity_info: "提示",
    severity_warning: "警告",
    severity_critical: "严重",
    exportHeading: "导出",
    exportDataset: "数据集",
    dataset_reads: "读取记录",
    dataset_grants: "授权",
    dataset_requests: "访问申请",
    dataset_governance: "治理操作",
    dataset_alerts: "告警",
    exportFrom: "起始区块",
    exportTo: "结束区块",
    exportCsv: "导出 CSV",
    exportJson: "导出 JSON",
    exportWorking: "正在导出…",
    exportDone: "已下载 {file}",
    exportRange: "区块范围",
    exportDigest: "摘要",
    exportVerified: "本地复算一致",
    exportMismatch: "本地复算不一致：{digest}",
    exportError: "导出失败：{message}",
    badBlock: "区块号应为非负整数，且起始不大于结束。",
    sessionExpired: "登录已过期，请重新登录。",
    loadError: "读取失败：{message}",
  },
  en: {
    title: "datasafe · Supervision dashboard",
    subtitle: "Consent, reads and outcomes, traced end to end",
    switchLanguage: "中文",
    switchLanguageLabel: "Switch to Chinese",
    signOut: "Sign out",
    signedInAs: "Signed in: {address} (regulator)",
    statusLabel: "Indexer status",
    statusLoading: "Reading the indexer's status…",
    statusLine: "Indexed block {indexed} / head {head} · {lag} blocks behind ({seconds} s)",
    statusReady: "in sync",
    statusBehind: "catching up",
    statusDown: "indexer unreachable",
    signInHeading: "Regulator sign-in",
    signInIntro:
      "Sign the sign-in message (EIP-4361) with the key of a registered regulator member. The member kind is checked on chain.",
    signInWallet: "Sign in with a browser wallet",
    signInWalletMissing: "No browser wallet (EIP-1193) found.",
    signInPasteHeading: "Or: paste a signature",
    signInAddress: "Regulator address",
    signInPrepare: "Prepare the sign-in message",
    signInMessage: "Message to sign (personal_sign, with any signer)",
    signInSignature: "Signature (0x…)",
    signInSubmit: "Submit signature",
    signInWorking: "Verifying…",
    signInRefused: "Sign-in refused: this account is not an active regulator member.",
    signInHolder: "This dashboard is for regulators; holders see their own trail in the datasafe app.",
    signInInvalid: "Sign-in failed: the signature or message is invalid, expired or already used ({code}).",
    signInError: "Sign-in failed: {message}",
    badAddress: "Not an address (0x followed by 40 hex digits).",
    chartsHeading: "Statistics",
    chartDaily: "Reads per day",
    chartConsumer: "Reads by consumer",
    chartDataType: "Reads by data type",
    chartOutcome: "Reads → approved loans, by consumer",
    seriesReads: "Reads",
    seriesApproved: "Approved outcomes",
    seriesRatio: "Outcome ratio",
    ratioTooltip: "{name}: {approved} / {reads} = {ratio}",
    noData: "No data yet",
    totals: "Totals: {reads} reads, {outcomes} outcomes reported, {approved} approved",
    searchHeading: "Trail search",
    searchLabel: "Holder id, consumer address, asset id, grant id or access id",
    searchButton: "Search",
    searchEmpty: "Enter an id or an address.",
    searchNotFound: "Nothing found for {q}",
    searchKind_holder: "Holder",
    searchKind_consumer: "Consumer",
    searchKind_asset: "Asset",
    searchKind_grant: "Grant",
    searchKind_read: "Access",
    searchResult: "{kind} {id}: {count} reads",
    searchTruncated: "(first {count} shown)",
    colTime: "Time",
    colBlock: "Block",
    colConsumer: "Consumer",
    colDataType: "Data type",
    colIssuer: "Issuer",
    colPurpose: "Purpose",
    colRead: "Read n / m",
    colGrant: "Grant id",
    colAsset: "Asset id",
    colOutcome: "Outcome",
    colTx: "Transaction",
    outcomeNone: "not reported",
    outcomeApproved: "approved",
    outcomeCode: "code {code}",
    alertsHeading: "Alerts",
    alertsEmpty: "No alerts.",
    alertRule: "Rule",
    alertSeverity: "Severity",
    alertConsumer: "Consumer",
    alertSubject: "Holder",
    alertAt: "block {block} · {time}",
    alertEvents: "Events that raised it",
    colEventKind: "Event",
    colEventId: "Id",
    severity_low: "low",
    severity_medium: "medium",
    severity_high: "high",
    severity_info: "info",
    severity_warning: "warning",
    severity_critical: "critical",
    exportHeading: "Export",
    exportDataset: "Dataset",
    dataset_reads: "Reads",
    dataset_grants: "Grants",
    dataset_requests: "Access requests",
    dataset_governance: "Governance acts",
    dataset_alerts: "Alerts",
    exportFrom: "From block",
    exportTo: "To block",
    exportCsv: "Export CSV",
    exportJson: "Export JSON",
    exportWorking: "Exporting…",
    exportDone: "Downloaded {file}",
    exportRange: "Block range",
    exportDigest: "Digest",
    exportVerified: "recomputed here: equal",
    exportMismatch: "recomputed here: differs ({digest})",
    exportError: "Export failed: {message}",
    badBlock: "Block numbers are non-negative integers, from no greater than to.",
    sessionExpired: "The session expired; sign in again.",
    loadError: "Could not load: {message}",
  },
};

export const LANGUAGES = /** @type {const} */ (["zh", "en"]);

let current = initialLanguage();

function initialLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === "zh" || saved === "en") return saved;
  } catch {
    // Storage may be disabled; the default stands.
  }
  return "zh";
}

/** The current language, "zh" or "en". */
export function language() {
  return current;
}

/** Sets and remembers the language, and relabels the document. */
export function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) throw new Error(`unknown language ${lang}`);
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not remembered, still applied.
  }
  applyLabels(document);
}

/** The label `key` in the current language, `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = LABELS[current][key] ?? LABELS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Relabels every element under `root` that names a label. */
export function applyLabels(root) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
  document.title = t("title");
}
