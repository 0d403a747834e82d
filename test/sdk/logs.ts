/**
 * The pager's arithmetic and judgement, without a node: how a range is cut into pages, how a page
 * is halved, which failures are retried, and how the Ignition journal is read. The behaviour over
 * a real node behind a range-capped proxy is in paged-history.ts.
 */
import { expect } from "chai";
import { makeError } from "ethers";

import {
  DataSafeClient,
  DeploymentRecordError,
  InvalidInputError,
  LOG_QUERY_DEFAULTS,
  classifyLogError,
  deploymentBlockOf,
  halves,
  pageRanges,
  parseIgnitionJournal,
  suiteOf,
} from "../../sdk/index.js";
import { LogReader, rpcMessageOf } from "../../sdk/logs.js";
import { thrown } from "./helpers.js";

const span = (fromBlock: number, toBlock: number) => ({ fromBlock, toBlock });

/** A failed eth_getLogs as ethers' JsonRpcProvider reports a JSON-RPC error. */
const rpcError = (code: number, message: string) =>
  makeError("could not coalesce error", "UNKNOWN_ERROR", {
    error: { code, message },
    payload: { method: "eth_getLogs", params: [], id: 1, jsonrpc: "2.0" },
  });
/** A failed HTTP request as ethers reports a non-2xx status. */
const httpError = (status: number, statusText: string) =>
  makeError(`server response ${status} ${statusText}`, "SERVER_ERROR", {
    request: "http://node",
    info: { requestUrl: "http://node", responseBody: statusText, responseStatus: `${status} ${statusText}` },
  });
/** A socket error as node's http client raises it. */
const socketError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe("sdk: paging history (unit)", () => {
  describe("pageRanges", () => {
    it("test_pageRanges_cutsAtPageSizeWithTheLastPageShort", () => {
      expect(pageRanges(span(0, 2_499), 1_000)).to.deep.equal([span(0, 999), span(1_000, 1_999), span(2_000, 2_499)]);
    });

    it("test_pageRanges_exactMultiple_noEmptyTrailingPage", () => {
      expect(pageRanges(span(1_000, 2_999), 1_000)).to.deep.equal([span(1_000, 1_999), span(2_000, 2_999)]);
    });

    it("test_pageRanges_oneBlockOverAPage_lastPageIsThatBlock", () => {
      expect(pageRanges(span(0, 1_000), 1_000)).to.deep.equal([span(0, 999), span(1_000, 1_000)]);
    });

    it("test_pageRanges_singleBlock_onePage", () => {
      expect(pageRanges(span(42, 42), 1_000)).to.deep.equal([span(42, 42)]);
      expect(pageRanges(span(0, 0), 1)).to.deep.equal([span(0, 0)]);
    });

    it("test_pageRanges_emptyRange_noPage", () => {
      expect(pageRanges(span(10, 9), 1_000)).to.deep.equal([]);
    });

    it("test_pageRanges_pageSizeOne_blockByBlock", () => {
      expect(pageRanges(span(5, 7), 1)).to.deep.equal([span(5, 5), span(6, 6), span(7, 7)]);
    });

    it("test_pageRanges_coverEveryBlockOnceWithinThePageSize", () => {
      for (const [from, to, size] of [
        [0, 0, 1_000],
        [17, 9_999, 1_000],
        [1, 12_345, 333],
        [1_000_000, 1_004_321, 1_000],
      ]) {
        const pages = pageRanges(span(from, to), size);
        expect(pages[0].fromBlock).to.equal(from);
        expect(pages.at(-1)!.toBlock).to.equal(to);
        pages.forEach((page, i) => {
          expect(page.toBlock - page.fromBlock + 1).to.be.within(1, size);
          if (i > 0) expect(page.fromBlock).to.equal(pages[i - 1].toBlock + 1);
        });
      }
    });

    it("test_pageRanges_badInput_InvalidInputError", () => {
      for (const [input, size, field] of [
        [span(-1, 5), 1_000, "span.fromBlock"],
        [span(0, 1.5), 1_000, "span.toBlock"],
        [span(0, 5), 0, "pageSize"],
        [span(0, 5), 2.5, "pageSize"],
      ] as const) {
        let error: unknown;
        try {
          pageRanges(input, size);
        } catch (caught) {
          error = caught;
        }
        expect(error, field).to.be.instanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).to.equal(field);
      }
    });
  });

  describe("halves", () => {
    it("test_halves_evenAndOdd_firstHalfNotShorter", () => {
      expect(halves(span(0, 999))).to.deep.equal([span(0, 499), span(500, 999)]);
      expect(halves(span(0, 1_000))).to.deep.equal([span(0, 500), span(501, 1_000)]);
      expect(halves(span(7, 8))).to.deep.equal([span(7, 7), span(8, 8)]);
    });

    it("test_halves_singleBlock_undefined", () => {
      expect(halves(span(5, 5))).to.equal(undefined);
    });
  });

  describe("classifyLogError", () => {
    it("test_classify_besuRangeLimit_RangeTooLarge", () => {
      expect(classifyLogError(rpcError(-32005, "Requested range exceeds maximum RPC range limit"))).to.equal(
        "RangeTooLarge",
      );
      expect(classifyLogError(rpcError(-32602, "block range too large, max 2000"))).to.equal("RangeTooLarge");
    });

    it("test_classify_tooManyResults_ResultTooLarge", () => {
      expect(classifyLogError(rpcError(-32005, "query returned more than 10000 results"))).to.equal("ResultTooLarge");
      expect(classifyLogError(rpcError(-32602, "Log response size exceeded."))).to.equal("ResultTooLarge");
    });

    it("test_classify_loadShedding_Transient", () => {
      expect(classifyLogError(rpcError(-32005, "limit exceeded"))).to.equal("Transient");
      expect(classifyLogError(httpError(503, "Service Unavailable"))).to.equal("Transient");
      expect(classifyLogError(httpError(502, "Bad Gateway"))).to.equal("Transient");
      expect(classifyLogError(httpError(429, "Too Many Requests"))).to.equal("Transient");
      expect(classifyLogError(makeError("request timeout", "TIMEOUT"))).to.equal("Transient");
      expect(classifyLogError(socketError("ECONNRESET", "socket hang up"))).to.equal("Transient");
      expect(classifyLogError(socketError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(
        "Transient",
      );
    });

    it("test_classify_badRequest_Permanent", () => {
      expect(classifyLogError(rpcError(-32602, "Invalid params"))).to.equal("Permanent");
      expect(classifyLogError(httpError(401, "Unauthorized"))).to.equal("Permanent");
      expect(classifyLogError(httpError(404, "Not Found"))).to.equal("Permanent");
      expect(classifyLogError(new Error("something else"))).to.equal("Permanent");
    });

    it("test_rpcMessageOf_prefersTheNodesMessageWithItsCode", () => {
      expect(rpcMessageOf(rpcError(-32005, "limit exceeded"))).to.equal("limit exceeded (code -32005)");
      expect(rpcMessageOf(httpError(503, "Service Unavailable"))).to.equal("server response 503 Service Unavailable");
    });
  });

  describe("options", () => {
    it("test_LogReader_defaults_1000BlocksFiveAttempts", () => {
      const reader = new LogReader(() => {
        throw new Error("not used");
      });
      expect(reader.options).to.deep.equal(LOG_QUERY_DEFAULTS);
      expect(reader.pageSize).to.equal(1_000);
    });

    it("test_LogReader_badOptions_InvalidInputError", () => {
      for (const [options, field] of [
        [{ pageSize: 0 }, "logQuery.pageSize"],
        [{ maxAttempts: 0 }, "logQuery.maxAttempts"],
        [{ concurrency: 1.5 }, "logQuery.concurrency"],
        [{ retryDelay: -1 }, "logQuery.retryDelay"],
      ] as const) {
        let error: unknown;
        try {
          new DataSafeClient(
            { address: "0x" + "11".repeat(20), catalogAddress: "0x" + "22".repeat(20) },
            { provider: null },
            { logQuery: options },
          );
        } catch (caught) {
          error = caught;
        }
        expect(error, field).to.be.instanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).to.equal(field);
      }
    });

    it("test_client_negativeFromBlock_InvalidInputError", async () => {
      const error = await thrown(
        async () =>
          new DataSafeClient(
            { address: "0x" + "11".repeat(20), catalogAddress: "0x" + "22".repeat(20) },
            { provider: null },
            { fromBlock: -1 },
          ),
      );
      expect(error).to.be.instanceOf(InvalidInputError);
      expect((error as InvalidInputError).field).to.equal("options.fromBlock");
    });
  });

  describe("Ignition journal", () => {
    const core = "0x" + "aa".repeat(20);
    const catalog = "0x" + "bb".repeat(20);
    const line = (entry: object) => JSON.stringify(entry);
    const journal = [
      line({ chainId: 1337, type: "DEPLOYMENT_INITIALIZE" }),
      line({
        futureId: "DataCatalog#DataCatalog",
        type: "TRANSACTION_CONFIRM",
        hash: "0x01",
        networkInteractionId: 1,
        receipt: { blockNumber: 1_203, contractAddress: catalog, status: "SUCCESS", logs: [], blockHash: "0x02" },
      }),
      line({
        futureId: "DataSafe#DataSafe",
        type: "TRANSACTION_CONFIRM",
        hash: "0x03",
        networkInteractionId: 1,
        receipt: { blockNumber: 1_204, contractAddress: core, status: "SUCCESS", logs: [], blockHash: "0x04" },
      }),
      line({
        futureId: "Permissions#grant_OPERATOR",
        type: "TRANSACTION_CONFIRM",
        hash: "0x05",
        networkInteractionId: 1,
        receipt: { blockNumber: 1_220, status: "SUCCESS", logs: [], blockHash: "0x06" },
      }),
      "",
    ].join("\n");

    it("test_parseIgnitionJournal_contractsWithTheirCreationBlocks", () => {
      const deployment = parseIgnitionJournal(journal, "chain-1337/journal.jsonl");
      expect(deployment.chainId).to.equal(1337);
      expect(Object.keys(deployment.contracts)).to.deep.equal(["DataCatalog#DataCatalog", "DataSafe#DataSafe"]);
      expect(suiteOf(deployment).fromBlock).to.equal(1_203);
      expect(deploymentBlockOf(deployment, [core])).to.equal(1_204);
      expect(deploymentBlockOf(deployment, [core.toUpperCase().replace("0X", "0x"), catalog])).to.equal(1_203);
    });

    it("test_parseIgnitionJournal_badOrIncomplete_DeploymentRecordError", () => {
      const attempts: [() => unknown, string][] = [
        [() => parseIgnitionJournal("{not json", "j"), "j: line 1 is not JSON"],
        [
          () => parseIgnitionJournal(journal.split("\n").slice(1).join("\n"), "j"),
          "j: no DEPLOYMENT_INITIALIZE entry with a chain id",
        ],
        [
          () => deploymentBlockOf(parseIgnitionJournal(journal, "j"), ["0x" + "cc".repeat(20)]),
          "j: the deployment did not create",
        ],
        [
          () => suiteOf(parseIgnitionJournal(journal.split("\n").slice(0, 2).join("\n"), "j")),
          "j: no contract created for DataSafe#DataSafe",
        ],
      ];
      for (const [attempt, message] of attempts) {
        let error: unknown;
        try {
          attempt();
        } catch (caught) {
          error = caught;
        }
        expect(error, message).to.be.instanceOf(DeploymentRecordError);
        expect((error as DeploymentRecordError).shortMessage).to.contain(message);
      }
    });
  });
});
