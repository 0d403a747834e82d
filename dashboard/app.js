/*
 * The regulator's dashboard: sign-in (a browser wallet, a pasted signature, or a `#signin=` link),
 * then statistics charts, the trail search, alerts and exports, all read from the supervision API,
 * with the indexer's lag in the corner. No build step: ES modules and ECharts' dist file.
 */

import { ApiError, allItems, clearSession, getJson, postJson, request, saveSession, session } from "./api.js";
import { disposeCharts, drawCharts, resizeCharts } from "./charts.js";
import { applyLabels, language, setLanguage, t } from "./i18n.js";
import { checksumAddress, isAddress, signInFromFragment, siweMessage, utf8Hex } from "./siwe.js";

const STATUS_POLL_MS = 5_000;
/** How long a sign-in message stays valid (the API's nonce may expire sooner). */
const MESSAGE_LIFETIME_MS = 10 * 60_000;
const TRAIL_MAX_ROWS = 5_000;
/** Marked when every chart has drawn real data after a sign-in or a load: the first-render figure. */
export const CHARTS_DRAWN_MARK = "datasafe:charts-drawn";

const $ = (id) => document.getElementById(id);

/** What the page shows, kept so a language switch can redraw it. */
const state = { status: undefined, stats: undefined, alerts: undefined, trail: undefined, chainId: undefined };

// ---------------------------------------------------------------- status corner

async function refreshStatus() {
  try {
    state.status = await getJson("/api/status");
    state.chainId = state.status.chainId;
  } catch {
    state.status = null;
  }
  renderStatus();
}

function renderStatus() {
  const badge = $("status-badge");
  const text = $("status-text");
  const s = state.status;
  if (s === undefined) return;
  if (s === null) {
    badge.className = "badge down";
    badge.textContent = t("statusDown");
    text.textContent = "";
    return;
  }
  badge.className = s.ready ? "badge ok" : "badge behind";
  badge.textContent = s.ready ? t("statusReady") : t("statusBehind");
  text.textContent = t("statusLine", {
    indexed: s.indexedBlock,
    head: s.headBlock,
    lag: s.lagBlocks,
    seconds: s.lagSeconds,
  });
}

// ---------------------------------------------------------------- sign-in

async function signInMessage(address) {
  // The nonce answer names what the API will check the message against: domain, URI and chain.
  const answer = await getJson("/api/auth/nonce");
  const issuedAt = new Date();
  const lifetimeEnd = issuedAt.getTime() + MESSAGE_LIFETIME_MS;
  const nonceEnd = answer.expiresAt ? answer.expiresAt * 1000 : lifetimeEnd;
  return siweMessage({
    domain: answer.domain ?? location.host,
    address,
    statement: "Sign in to the datasafe supervision dashboard.",
    uri: answer.uri ?? location.origin,
    chainId: answer.chainId ?? state.chainId,
    nonce: answer.nonce,
    issuedAt,
    expirationTime: new Date(Math.min(lifetimeEnd, nonceEnd)),
  });
}

/** Sends `{ message, signature }` to the API; on a regulator's session, shows the board. */
async function completeSignIn(message, signature) {
  const error = $("sign-in-error");
  error.textContent = t("signInWorking");
  try {
    const answer = await postJson("/api/auth/verify", { message, signature });
    if (answer.role !== "regulator") {
      error.textContent = t("signInHolder");
      return;
    }
    saveSession({ token: answer.token, role: answer.role, address: answer.address, expiresAt: answer.expiresAt });
    error.textContent = "";
    await showBoard();
  } catch (failure) {
    error.textContent = signInFailure(failure);
  }
}

function signInFailure(failure) {
  if (failure instanceof ApiError && failure.status === 403) return t("signInRefused");
  if (failure instanceof ApiError && failure.status === 401) return t("signInInvalid", { code: failure.code });
  return t("signInError", { message: failure instanceof Error ? failure.message : String(failure) });
}

async function walletSignIn() {
  const error = $("sign-in-error");
  const wallet = globalThis.ethereum;
  if (!wallet || typeof wallet.request !== "function") {
    error.textContent = t("signInWalletMissing");
    return;
  }
  try {
    const [account] = await wallet.request({ method: "eth_requestAccounts" });
    const message = await signInMessage(account);
    const signature = await wallet.request({ method: "personal_sign", params: [utf8Hex(message), account] });
    await completeSignIn(message, signature);
  } catch (failure) {
    error.textContent = signInFailure(failure);
  }
}

async function preparePastedMessage() {
  const error = $("sign-in-error");
  const address = $("paste-address").value.trim();
  if (!isAddress(address)) {
    error.textContent = t("badAddress");
    return;
  }
  error.textContent = "";
  try {
    $("paste-address").value = checksumAddress(address);
    $("paste-message").value = await signInMessage(address);
    $("paste-signature").focus();
  } catch (failure) {
    error.textContent = signInFailure(failure);
  }
}

async function fragmentSignIn() {
  let signed;
  try {
    signed = signInFromFragment(location.hash);
  } catch (failure) {
    $("sign-in-error").textContent = signInFailure(failure);
  }
  if (signed === undefined) return false;
  // The signature has done its job once sent: keep it out of the history and the address bar.
  history.replaceState(null, "", location.pathname + location.search);
  showSignIn();
  await completeSignIn(signed.message, signed.signature);
  return true;
}

function showSignIn() {
  $("board").hidden = true;
  $("sign-in").hidden = false;
  $("who").hidden = true;
  $("sign-out").hidden = true;
}

function signOut(reason) {
  clearSession();
  disposeCharts();
  Object.assign(state, { stats: undefined, alerts: undefined, trail: undefined });
  showSignIn();
  $("sign-in-error").textContent = reason ?? "";
}

/** Runs `action`; an expired or refused session sends the regulator back to sign-in. */
async function guarded(action, onError) {
  try {
    await action();
  } catch (failure) {
    if (failure instanceof ApiError && failure.status === 401) signOut(t("sessionExpired"));
    else onError(failure instanceof Error ? failure.message : String(failure));
  }
}

// ---------------------------------------------------------------- board

async function showBoard() {
  const current = session();
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("who").hidden = false;
  $("who").textContent = t("signedInAs", { address: current.address });
  $("sign-out").hidden = false;
  await Promise.all([loadCharts(), loadAlerts(), fillExportRange()]);
}

async function loadCharts() {
  await guarded(
    async () => {
      const [day, consumer, dataType] = await Promise.all(
        ["day", "consumer", "dataType"].map((by) => getJson("/api/stats", { by })),
      );
      state.stats = { day, consumer, dataType };
      await renderCharts();
      performance.mark(CHARTS_DRAWN_MARK);
    },
    (message) => ($("charts-error").textContent = t("loadError", { message })),
  );
}

async function renderCharts() {
  if (!state.stats) return;
  $("charts-error").textContent = "";
  $("totals").textContent = t("totals", state.stats.consumer.totals);
  await drawCharts(state.stats);
}

async function loadAlerts() {
  await guarded(
    async () => {
      state.alerts = (await getJson("/api/alerts")).items;
      renderAlerts();
    },
    (message) => $("alerts").replaceChildren(element("li", { className: "error" }, t("loadError", { message }))),
  );
}

function element(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  el.append(...children.filter((c) => c !== undefined && c !== null));
  return el;
}

function formatTime(seconds) {
  if (!seconds) return "";
  return new Date(seconds * 1000).toLocaleString(language() === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

/** A long hex id shortened for a table cell, the whole id in its title and for copying. */
function idCell(id) {
  if (!id) return element("td");
  const short = id.length > 18 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id;
  return element("td", {}, element("code", { title: id, textContent: short }));
}

function renderAlerts() {
  const list = $("alerts");
  if (!state.alerts) return;
  if (state.alerts.length === 0) {
    list.replaceChildren(element("li", { className: "empty" }, t("alertsEmpty")));
    return;
  }
  list.replaceChildren(
    ...state.alerts.map((alert) => {
      const severity = alert.severity ?? "info";
      const events = element(
        "table",
        { className: "events" },
        element("caption", {}, t("alertEvents")),
        element(
          "thead",
          {},
          element(
            "tr",
            {},
            element("th", { scope: "col" }, t("colEventKind")),
            element("th", { scope: "col" }, t("colEventId")),
            element("th", { scope: "col" }, t("colTx")),
          ),
        ),
        element(
          "tbody",
          {},
          ...(alert.events ?? []).map((event) =>
            element("tr", {}, element("td", {}, event.kind), idCell(event.id), idCell(event.txHash)),
          ),
        ),
      );
      return element(
        "li",
        { className: `alert severity-${severity}` },
        element(
          "p",
          { className: "alert-head" },
          element("span", { className: "badge" }, t(`severity_${severity}`)),
          " ",
          element("strong", {}, alert.summary),
        ),
        element(
          "p",
          { className: "alert-meta" },
          `${t("alertRule")}: ${alert.rule} · ${t("alertAt", { block: alert.blockNumber, time: formatTime(alert.timestamp) })}`,
          alert.consumer ? ` · ${t("alertConsumer")}: ${alert.consumer}` : undefined,
          alert.subjectId ? ` · ${t("alertSubject")}: ${alert.subjectId}` : undefined,
        ),
        events,
      );
    }),
  );
}

// ---------------------------------------------------------------- search

/** The reads of what a search resolved to: the trail of a holder, a consumer's reads, or a holder's filtered. */
async function trailOf(found) {
  if (Array.isArray(found.items)) return { items: found.items, truncated: false };
  switch (found.kind) {
    case "holder":
      return allItems(`/api/holders/${found.id}/trail`, {}, TRAIL_MAX_ROWS);
    case "consumer":
      return allItems("/api/reads", { consumer: found.id }, TRAIL_MAX_ROWS);
    default: {
      // An asset, grant or access: the rows of its holder's trail that name it.
      const subjectId = found.subjectId ?? found.grant?.subjectId ?? found.read?.subjectId;
      if (!subjectId) return { items: [], truncated: false };
      const field = { asset: "assetId", grant: "grantId", read: "accessId" }[found.kind];
      const trail = await allItems(`/api/holders/${subjectId}/trail`, {}, TRAIL_MAX_ROWS);
      const id = String(found.id).toLowerCase();
      return { ...trail, items: trail.items.filter((row) => String(row[field]).toLowerCase() === id) };
    }
  }
}

async function search(event) {
  event.preventDefault();
  const q = $("search-q").value.trim();
  const summary = $("search-summary");
  if (!q) {
    summary.textContent = t("searchEmpty");
    return;
  }
  await guarded(
    async () => {
      let found;
      try {
        found = await getJson("/api/search", { q });
      } catch (failure) {
        if (failure instanceof ApiError && (failure.code === "no-match" || failure.status === 404)) {
          state.trail = undefined;
          $("trail").hidden = true;
          summary.textContent = t("searchNotFound", { q });
          return;
        }
        throw failure;
      }
      const trail = await trailOf(found);
      state.trail = { found, ...trail };
      renderTrail();
    },
    (message) => (summary.textContent = t("loadError", { message })),
  );
}

function outcomeText(row) {
  if (row.outcome === null || row.outcome === undefined) return t("outcomeNone");
  return Number(row.outcome) === 1 ? t("outcomeApproved") : t("outcomeCode", { code: row.outcome });
}

function renderTrail() {
  if (!state.trail) return;
  const { found, items, truncated } = state.trail;
  const text =
    t("searchResult", { kind: t(`searchKind_${found.kind}`), id: found.id, count: items.length }) +
    (truncated ? ` ${t("searchTruncated", { count: items.length })}` : "");
  $("search-summary").textContent = text;
  $("trail-caption").textContent = text;
  const rows = items.map((row) =>
    element(
      "tr",
      {},
      element("td", {}, formatTime(row.timestamp)),
      element("td", {}, String(row.blockNumber)),
      element("td", { title: row.consumer }, row.consumerName || row.consumer),
      element("td", {}, row.dataTypeName || String(row.dataType)),
      row.issuerName ? element("td", { title: row.issuer }, row.issuerName) : idCell(row.issuer),
      element("td", {}, String(row.purpose)),
      element("td", {}, `${row.readNumber} / ${row.maxReads}`),
      idCell(row.grantId),
      idCell(row.assetId),
      element("td", {}, outcomeText(row)),
      idCell(row.txHash),
    ),
  );
  rows.forEach((tr, i) => (tr.dataset.accessId = items[i].accessId));
  $("trail")
    .querySelector("tbody")
    .replaceChildren(...rows);
  $("trail").hidden = false;
}

// ---------------------------------------------------------------- export

async function fillExportRange() {
  if (state.status === undefined) await refreshStatus();
  if ($("export-from").value === "") $("export-from").value = "0";
  if ($("export-to").value === "" && state.status) $("export-to").value = String(state.status.indexedBlock);
}

function blockInput(id) {
  const text = $(id).value.trim();
  return /^\d+$/.test(text) ? Number(text) : NaN;
}

async function exportData(event) {
  event.preventDefault();
  const format = event.submitter?.value === "json" ? "json" : "csv";
  const dataset = $("export-dataset").value;
  const fromBlock = blockInput("export-from");
  const toBlock = blockInput("export-to");
  const status = $("export-status");
  if (!Number.isSafeInteger(fromBlock) || !Number.isSafeInteger(toBlock) || fromBlock > toBlock) {
    status.textContent = t("badBlock");
    return;
  }
  status.textContent = t("exportWorking");
  await guarded(
    async () => {
      const query = new URLSearchParams({ dataset, fromBlock, toBlock, format });
      const response = await request(`/api/export?${query}`);
      const blob = await response.blob();
      const range = response.headers.get("x-datasafe-block-range") ?? `${fromBlock}-${toBlock}`;
      const digest = response.headers.get("x-datasafe-digest") ?? "";
      const [from, to] = range.split("-").map(Number);
      const recomputed = await recomputeDigest(format, await blob.text(), { dataset, fromBlock: from, toBlock: to });
      const file = `datasafe-${dataset}-${range}.${format}`;
      const url = URL.createObjectURL(blob);
      const link = element("a", { href: url, download: file });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      $("export-range").textContent = range;
      $("export-digest").textContent = digest;
      $("export-check").textContent =
        recomputed === digest ? t("exportVerified") : t("exportMismatch", { digest: recomputed });
      $("export-check").className = recomputed === digest ? "ok" : "error";
      $("export-result").hidden = false;
      status.textContent = t("exportDone", { file });
    },
    (message) => (status.textContent = t("exportError", { message })),
  );
}

/**
 * The digest of an export recomputed here from the file itself: SHA-256 of the canonical lines
 * (sdk/supervision.ts `canonicalExportLines`): the header array, the column names, then each row's
 * values in column order, one JSON array per line.
 */
async function recomputeDigest(format, text, meta) {
  let chainId = state.chainId;
  let columns;
  let rows;
  if (format === "json") {
    const document = JSON.parse(text);
    chainId = document.chainId;
    columns = document.columns;
    rows = document.rows.map((row) => columns.map((column) => row[column] ?? ""));
  } else {
    [columns, ...rows] = parseCsv(text);
  }
  const lines = [
    JSON.stringify(["datasafe-export/1", chainId, meta.dataset, meta.fromBlock, meta.toBlock]),
    JSON.stringify(columns),
    ...rows.map((row) => JSON.stringify(row)),
  ];
  const bytes = new TextEncoder().encode(lines.map((line) => line + "\n").join(""));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `sha256:${Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The records of an RFC 4180 CSV text ("\r\n" or "\n" line ends, quoted fields). */
function parseCsv(text) {
  const records = [];
  let record = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      records.push(record);
      record = [];
      field = "";
    } else field += ch;
  }
  if (field !== "" || record.length > 0) records.push([...record, field]);
  return records;
}

// ---------------------------------------------------------------- language

async function switchLanguage() {
  setLanguage(language() === "zh" ? "en" : "zh");
  renderStatus();
  const current = session();
  if (current && !$("board").hidden) $("who").textContent = t("signedInAs", { address: current.address });
  renderAlerts();
  renderTrail();
  // ECharts takes its locale at init: re-create the charts in the other language.
  disposeCharts();
  await renderCharts();
}

// ---------------------------------------------------------------- start

async function start() {
  applyLabels(document);
  $("lang-toggle").addEventListener("click", () => void switchLanguage());
  $("sign-out").addEventListener("click", () => signOut());
  $("wallet-sign-in").addEventListener("click", () => void walletSignIn());
  $("paste-prepare").addEventListener("click", () => void preparePastedMessage());
  $("paste-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void completeSignIn($("paste-message").value, $("paste-signature").value.trim());
  });
  $("search-form").addEventListener("submit", (event) => void search(event));
  $("export-form").addEventListener("submit", (event) => void exportData(event));
  window.addEventListener("resize", resizeCharts);
  setInterval(() => void refreshStatus(), STATUS_POLL_MS);

  await refreshStatus();
  if (await fragmentSignIn()) return;
  if (session()) await showBoard();
  else showSignIn();
}

void start();
