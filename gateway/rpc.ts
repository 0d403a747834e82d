import { JsonRpcProvider, type JsonRpcPayload, type JsonRpcResult } from "ethers";

/**
 * ethers' JSON-RPC provider with one change: answers are decoded by Node (`Buffer#toString` and
 * `JSON.parse`) instead of ethers' JavaScript UTF-8 decoder, which costs milliseconds for a
 * receipt with many logs and was the largest chain-side cost in the gateway's
 * profile. The request (ethers' `FetchRequest`: timeout, headers, batching) and the error handling
 * are ethers' own, as in `JsonRpcProvider#_send`.
 */
export class GatewayJsonRpcProvider extends JsonRpcProvider {
  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const request = this._getConnection();
    request.body = JSON.stringify(payload);
    request.setHeader("content-type", "application/json");
    const response = await request.send();
    response.assertOk();
    const body = response.body;
    if (body === null) throw new Error(`the node answered ${response.statusCode} with no body`);
    const answer = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    return Array.isArray(answer) ? answer : [answer];
  }
}
