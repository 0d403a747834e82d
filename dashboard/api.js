/*
 * The supervision API as the page uses it (paths and shapes: indexer/README.md § API). The session
 * token lives in sessionStorage: it ends with the tab, and a reload keeps the regulator signed in.
 */

const SESSION_KEY = "datasafe.session";

/** A refusal or failure of the API, with its HTTP status and the API's error code. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** The stored session `{ token, role, address, expiresAt }`, or undefined when none or expired. */
export function session() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
    if (saved && typeof saved.token === "string" && (!saved.expiresAt || saved.expiresAt * 1000 > Date.now())) {
      return saved;
    }
  } catch {
    // A damaged entry is no session.
  }
  return undefined;
}

export function saveSession(value) {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
}

async function errorOf(response) {
  let code = `http-${response.status}`;
  let message = response.statusText || code;
  try {
    const body = await response.json();
    if (typeof body.code === "string") code = body.code;
    message = body.detail ?? body.message ?? body.title ?? code;
  } catch {
    // Not JSON: the status says it.
  }
  return new ApiError(response.status, code, message);
}

/** The response of `path` (with the session's token), or an ApiError. */
export async function request(path, init = {}) {
  const headers = new Headers(init.headers);
  const current = session();
  if (current) headers.set("authorization", `Bearer ${current.token}`);
  const response = await fetch(path, { ...init, headers });
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** GET `path` with `params` (undefined and "" left out) as JSON. */
export async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") query.set(key, String(value));
  }
  const qs = query.toString();
  return (await request(qs ? `${path}?${qs}` : path)).json();
}

export async function postJson(path, body) {
  const response = await request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** Every item of a paged list route, following `nextCursor`, at most `max` items. */
export async function allItems(path, params, max = 5000) {
  const items = [];
  let cursor;
  do {
    const page = await getJson(path, { ...params, limit: Math.min(1000, max - items.length), cursor });
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < max);
  return { items, truncated: Boolean(cursor) };
}
