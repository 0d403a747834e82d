import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { expect } from "chai";
import { type Wallet, getBytes } from "ethers";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { createSiweMessage } from "viem/siwe";

import type { UsageRecord } from "../../sdk/index.js";
import { type NonceAnswer, exportDigest, parseExportCsv } from "../../sdk/supervision.js";
import { Outcome } from "../../scripts/catalog.js";
import { ALERT_RULES, type Roster, makeTraffic, startSupervision } from "../helpers/dashboard-stack.js";
import { type Chain, ROOT, startChain, stopAll, workDirectory } from "../helpers/gateway-harness.js";
import type { Indexer } from "../helpers/supervision.js";

/*
 * The regulator's dashboard in a real browser (Debian's chromium driven by playwright-core) against
 * real processes: hardhat node with the suite deployed, traffic made with the SDK, and the
 * supervision process (indexer + API) serving dashboard/. What the page draws is read from the
 * chart instances (ECharts' getOption) and compared with figures the SDK computes from the chain's
 * logs. Screenshots go to bench/results/screenshots/ (git-ignored); the first render with real
 * data (navigation start → every chart drawn) is printed and saved to bench/results/dashboard.json.
 */

const CHROMIUM = process.env.DATASAFE_CHROMIUM ?? "/usr/bin/chromium";
const RESULTS = path.join(ROOT, "bench", "results");
const SCREENSHOTS = path.join(RESULTS, "screenshots");
const CHARTS_DRAWN = "datasafe:charts-drawn";

/** What a chart draws: its category names and each series' data items. */
interface ChartData {
  categories: string[];
  series: {
    id: string;
    name: string;
    data: { name: string; key: string; value: number; reads?: number; approved?: number }[];
  }[];
}

/** The browser's globals this test reads (the tests compile without the DOM library). */
interface PageGlobals {
  document: { getElementById(id: string): unknown };
  echarts: {
    getInstanceByDom(
      element: unknown,
    ):
      | { getOption(): { series: ChartData["series"]; xAxis?: { data?: string[] }[]; yAxis?: { data?: string[] }[] } }
      | undefined;
  };
  performance: { getEntriesByName(name: string): { startTime: number }[] };
}

/** Reads the data of the chart in element `id` from its ECharts instance. */
async function chartData(page: Page, id: string): Promise<ChartData> {
  return page.evaluate((elementId) => {
    const g = globalThis as unknown as PageGlobals;
    const chart = g.echarts.getInstanceByDom(g.document.getElementById(elementId));
    if (chart === undefined) throw new Error(`no chart in #${elementId}`);
    const option = chart.getOption();
    const categories = option.yAxis?.[0]?.data ?? option.xAxis?.[0]?.data ?? [];
    return {
      categories,
      series: option.series.map((s) => ({
        id: s.id,
        name: s.name,
        data: s.data.map((d) => ({
          name: d.name,
          key: String(d.key),
          value: d.value,
          reads: d.reads,
          approved: d.approved,
        })),
      })),
    };
  }, id);
}

/** Milliseconds from navigation start to the page's mark that every chart drew real data. */
async function chartsDrawnAt(page: Page, timeoutMs = 30_000): Promise<number> {
  await page.waitForFunction(
    (mark) => (globalThis as unknown as PageGlobals).performance.getEntriesByName(mark).length > 0,
    CHARTS_DRAWN,
    { timeout: timeoutMs },
  );
  return page.evaluate(
    (mark) => (globalThis as unknown as PageGlobals).performance.getEntriesByName(mark)[0].startTime,
    CHARTS_DRAWN,
  );
}

function countBy<T>(items: T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

/** A browser context whose page has an EIP-1193 wallet (`window.ethereum`) backed by `wallet`. */
async function walletContext(browser: Browser, wallet: Wallet): Promise<BrowserContext> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1440, height: 900 } });
  await context.exposeFunction("datasafeTestPersonalSign", (messageHex: string) =>
    wallet.signMessage(getBytes(messageHex)),
  );
  await context.addInitScript(
    ({ address }) => {
      const g = globalThis as unknown as Record<string, unknown> & {
        datasafeTestPersonalSign(hex: string): Promise<string>;
      };
      g.ethereum = {
        async request({ method, params }: { method: string; params?: unknown[] }) {
          if (method === "eth_requestAccounts" || method === "eth_accounts") return [address.toLowerCase()];
          if (method === "personal_sign") {
            const [message, account] = params as [string, string];
            if (account.toLowerCase() !== address.toLowerCase()) throw new Error("unknown account");
            return g.datasafeTestPersonalSign(message);
          }
          throw new Error(`unsupported method ${method}`);
        },
      };
    },
    { address: wallet.address },
  );
  return context;
}

describe("dashboard: what a regulator sees in the browser matches the chain", function () {
  this.timeout(300_000);
  const work = workDirectory("dashboard");
  let chain: Chain | undefined;
  let indexer: Indexer | undefined;
  let apiUrl: string;
  let roster: Roster;
  let trail: UsageRecord[];
  let browser: Browser;
  let regulatorContext: BrowserContext;
  let page: Page;
  const figures: Record<string, number> = {};

  before(async function () {
    this.timeout(600_000);
    mkdirSync(SCREENSHOTS, { recursive: true });
    chain = await startChain(work.dir);
    roster = await makeTraffic(chain);
    trail = await roster.safe.events.accessTrail({});
    indexer = await startSupervision(chain, work.dir, ALERT_RULES);
    await indexer.waitForBlock(roster.lastBlock, 240_000);
    apiUrl = indexer.url;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  });

  after(async () => {
    await regulatorContext?.close();
    await browser?.close();
    await indexer?.stop();
    await stopAll();
    await chain?.stop();
    work.remove();
    if (Object.keys(figures).length > 0) {
      const saved = { measuredAt: new Date().toISOString(), reads: trail?.length, ...figures };
      writeFileSync(path.join(RESULTS, "dashboard.json"), JSON.stringify(saved, null, 2) + "\n");
    }
  });

  it("refuses a consumer bank's sign-in on the page, in Chinese by default", async () => {
    const context = await walletContext(browser, roster.outsider);
    try {
      const outsider = await context.newPage();
      await outsider.goto(apiUrl + "/");
      expect(await outsider.locator("html").getAttribute("lang")).to.equal("zh-CN");
      await outsider.getByRole("button", { name: "使用浏览器钱包登录" }).click();
      await outsider.getByText("登录被拒绝：该账户不是在册且有效的监管机构成员。").waitFor();
      expect(await outsider.locator("#board").isHidden()).to.equal(true);
    } finally {
      await context.close();
    }
  });

  it("signs a regulator in with a browser wallet and charts the chain's reads by consumer, data type and outcome", async () => {
    regulatorContext = await walletContext(browser, roster.regulator);
    page = await regulatorContext.newPage();
    await page.goto(apiUrl + "/");
    await page.getByRole("button", { name: "使用浏览器钱包登录" }).click();
    await chartsDrawnAt(page);
    await page.getByText(`已登录：${roster.regulator.address}（监管机构）`).waitFor();

    const byConsumer = countBy(trail, (r) => r.consumer.toLowerCase());
    const consumer = await chartData(page, "chart-consumer");
    expect(
      new Map(consumer.series[0].data.map((d) => [d.key.toLowerCase(), d.value])),
      "reads per consumer",
    ).to.deep.equal(byConsumer);
    for (const bank of roster.banks) expect(consumer.categories).to.include(bank.name);

    const dataType = await chartData(page, "chart-data-type");
    expect(new Map(dataType.series[0].data.map((d) => [d.name, d.value])), "reads per data type").to.deep.equal(
      countBy(trail, (r) => r.dataTypeName),
    );

    const outcome = await chartData(page, "chart-outcome");
    for (const [address, reads] of byConsumer) {
      const approved = trail.filter(
        (r) => r.consumer.toLowerCase() === address && r.outcome === Outcome.LoanApproved,
      ).length;
      const drawn = outcome.series[0].data.find((d) => d.key.toLowerCase() === address);
      expect(drawn, `outcome ratio of ${address}`).to.not.equal(undefined);
      expect(drawn!.reads).to.equal(reads);
      expect(drawn!.approved).to.equal(approved);
      // Not chai's closeTo: Hardhat's chai matchers turn its numbers into bigints (0.375 fails).
      expect(Math.abs(drawn!.value - approved / reads)).to.be.below(1e-9);
    }
    // The traffic reported some approvals, and not for every read: the ratios are neither 0 nor 1 throughout.
    expect(outcome.series[0].data.some((d) => d.value > 0 && d.value < 1)).to.equal(true);

    const daily = await chartData(page, "chart-daily");
    const dailyReads = daily.series.find((s) => s.id === "reads")!.data.reduce((sum, d) => sum + d.value, 0);
    expect(dailyReads, "reads over all days").to.equal(trail.length);
  });

  it("finds a holder's full trail by its id", async () => {
    const holder = roster.holders[0];
    const expected = await roster.safe.events.usageOf(holder);
    expect(expected.length).to.be.greaterThan(1);
    await page.getByRole("searchbox").fill(holder);
    await page.getByRole("button", { name: "查询" }).click();
    // The table is named by its caption, which says whose trail it is and how many reads it holds.
    const table = page.getByRole("table", { name: `持有人 ${holder}：共 ${expected.length} 条读取记录` });
    await table.waitFor({ state: "attached" });
    const rows = table.locator("tbody tr");
    expect(await rows.count()).to.equal(expected.length);
    const shown = await rows.evaluateAll((trs) =>
      trs.map((tr) => (tr as unknown as { dataset: { accessId: string } }).dataset.accessId),
    );
    expect(shown.map((id) => id.toLowerCase()).sort()).to.deep.equal(
      expected.map((r) => r.accessId.toLowerCase()).sort(),
    );
    const firstRead = expected[0];
    const firstRow = table.locator(`tbody tr[data-access-id="${firstRead.accessId.toLowerCase()}"]`);
    const firstText = await firstRow.textContent();
    expect(firstText).to.include(firstRead.consumerName);
    expect(firstText).to.include(`${firstRead.readNumber} / ${firstRead.maxReads}`);
  });

  it("lists the alert the busiest bank raised, with the reads that raised it", async () => {
    const alert = page.locator("#alerts li.alert").filter({ hasText: roster.busiestBank });
    await alert.first().waitFor();
    const eventRows = alert.first().locator("table.events tbody tr");
    expect(await eventRows.count()).to.be.greaterThan(0);
    const bankReads = new Set(
      trail
        .filter((r) => r.consumer.toLowerCase() === roster.busiestBank.toLowerCase())
        .map((r) => r.transactionHash.toLowerCase()),
    );
    const txs = await eventRows
      .locator("td:nth-child(3) code")
      .evaluateAll((codes) => codes.map((code) => String((code as unknown as { title: string }).title).toLowerCase()));
    for (const tx of txs) expect(bankReads.has(tx), `alert event ${tx} is a read of the bank`).to.equal(true);
  });

  it("exports the reads of a block range as CSV; the file's digest equals the one the page shows", async () => {
    const head = await chain!.provider.getBlockNumber();
    await page.getByLabel("起始区块").fill("0");
    await page.getByLabel("结束区块").fill(String(head));
    const [download, response] = await Promise.all([
      page.waitForEvent("download"),
      page.waitForResponse((r) => r.url().includes("/api/export")),
      page.getByRole("button", { name: "导出 CSV" }).click(),
    ]);
    const header = response.headers()["x-datasafe-digest"];
    expect(header).to.match(/^sha256:[0-9a-f]{64}$/);
    await page.locator("#export-digest").getByText(header).waitFor();
    expect(await page.locator("#export-range").textContent()).to.equal(`0-${head}`);
    // The digest is over the canonical lines of the rows (sdk/supervision.ts): recomputed from the file.
    const rows = parseExportCsv("reads", readFileSync(await download.path(), "utf8"));
    expect(rows.map((row) => row.accessId).sort(), "one CSV row per read").to.deep.equal(
      trail.map((r) => r.accessId.toLowerCase()).sort(),
    );
    expect(exportDigest({ chainId: 1337, dataset: "reads", fromBlock: 0, toBlock: head }, rows)).to.equal(header);
    await page.getByText("本地复算一致").waitFor();
  });

  it("switches to English and keeps the figures; screenshots in both languages", async () => {
    await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard-zh.png"), fullPage: true });
    await page.getByRole("button", { name: "切换到英文" }).click();
    await page.getByRole("heading", { name: "Statistics" }).waitFor();
    expect(await page.locator("html").getAttribute("lang")).to.equal("en");
    await page.getByRole("heading", { name: "Trail search" }).waitFor();
    await page.getByText(`Signed in: ${roster.regulator.address} (regulator)`).waitFor();
    await page.getByText("recomputed here: equal").waitFor();
    const consumer = await chartData(page, "chart-consumer");
    expect(consumer.series[0].name).to.equal("Reads");
    expect(consumer.series[0].data.reduce((sum, d) => sum + d.value, 0)).to.equal(trail.length);
    await page.screenshot({ path: path.join(SCREENSHOTS, "dashboard-en.png"), fullPage: true });
    // The choice is remembered: a reload stays in English.
    await page.reload();
    await page.getByRole("heading", { name: "Statistics" }).waitFor();
    await page.getByRole("button", { name: "Switch to Chinese" }).click();
    await page.getByRole("heading", { name: "统计" }).waitFor();
  });

  it("measures the first render with real data: a signed-in reload and a #signin= link", async () => {
    await page.reload();
    figures.firstRenderSignedInMs = Math.round(await chartsDrawnAt(page));

    // What the supervision demo does: sign the message with the regulator's key, hand the page a link.
    const answer = (await (await fetch(`${apiUrl}/api/auth/nonce`)).json()) as NonceAnswer;
    const message = createSiweMessage({
      domain: answer.domain,
      address: roster.regulator.address as `0x${string}`,
      statement: "Sign in to the datasafe supervision dashboard.",
      uri: answer.uri,
      chainId: answer.chainId,
      nonce: answer.nonce,
      version: "1",
      issuedAt: new Date(),
      expirationTime: new Date(Date.now() + 600_000),
    });
    const signature = await roster.regulator.signMessage(message);
    const fragment = Buffer.from(JSON.stringify({ message, signature })).toString("base64url");
    const fresh = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const linked = await fresh.newPage();
      await linked.goto(`${apiUrl}/#signin=${fragment}`);
      figures.firstRenderSignInLinkMs = Math.round(await chartsDrawnAt(linked));
      expect(new URL(linked.url()).hash, "the signature leaves the address bar").to.equal("");
      const consumer = await chartData(linked, "chart-consumer");
      expect(consumer.series[0].data.reduce((sum, d) => sum + d.value, 0)).to.equal(trail.length);
    } finally {
      await fresh.close();
    }
    console.log(
      `      dashboard first render with ${trail.length} reads: signed-in reload ${figures.firstRenderSignedInMs} ms, ` +
        `#signin= link ${figures.firstRenderSignInLinkMs} ms (navigation start → every chart drawn)`,
    );
  });

  it("signs in with a pasted signature of the displayed message", async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      const pasted = await context.newPage();
      await pasted.goto(apiUrl + "/");
      await pasted.getByLabel("监管机构地址").fill(roster.regulator.address.toLowerCase());
      await pasted.getByRole("button", { name: "生成登录消息" }).click();
      const messageBox = pasted.getByLabel("待签名消息（用任意签名工具以 personal_sign 签署）");
      await pasted.waitForFunction(
        () =>
          ((globalThis as unknown as PageGlobals).document.getElementById("paste-message") as { value: string })
            .value !== "",
      );
      const message = await messageBox.inputValue();
      expect(message).to.include(`\n${roster.regulator.address}\n`);
      await pasted.getByLabel("签名（0x…）").fill(await roster.regulator.signMessage(message));
      await pasted.getByRole("button", { name: "提交签名" }).click();
      await chartsDrawnAt(pasted);
      expect(await pasted.locator("#board").isVisible()).to.equal(true);
    } finally {
      await context.close();
    }
  });
});
