// The HTTP client of the Conversa API (API.md). Only the worker uses it: content scripts
// never fetch. Access tokens are renewed automatically, and never by two refreshes at once
// (one in-flight promise): the server rotates refresh tokens and treats a re-used one as
// theft, signing the device out.

import { API_BASE } from './config.js';

/** A non-2xx answer, with the server's error body ({error: {code, message, field}}). */
export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** The server could not be reached at all (not running, wrong URL, offline). */
export class NetworkError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NetworkError';
  }
}

export const notPaired = () => new ApiError(401, 'not_paired', 'this browser is not paired with a Conversa server');

async function errorFrom(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's page, an empty body)
  }
  const e = body?.error ?? {};
  return new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.field ?? null);
}

/**
 * @param {object} deps
 * @param {typeof fetch} deps.fetch
 * @param {ReturnType<import('./tokens.js').createTokenStore>} deps.tokens
 * @param {() => Promise<string>} deps.serverUrl the server origin, e.g. http://127.0.0.1:8765
 * @param {() => number} [deps.now]
 */
export function createApi({ fetch, tokens, serverUrl, now = () => Date.now() }) {
  let inflight = null; // the one refresh running, shared by every caller

  async function send(method, path, { body, token, signal, headers = {} } = {}) {
    const url = (await serverUrl()) + API_BASE + path;
    const h = { Accept: 'application/json', ...headers };
    if (token) h.Authorization = `Bearer ${token}`;
    const init = { method, headers: h, signal, credentials: 'omit', cache: 'no-store' };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    try {
      return await fetch(url, init);
    } catch (err) {
      if (err?.name === 'AbortError') throw err;
      throw new NetworkError(`cannot reach ${url}: ${err?.message ?? err}`);
    }
  }

  async function doRefresh() {
    const current = await tokens.get();
    if (!current?.refresh_token) throw notPaired();
    const res = await send('POST', '/auth/refresh', { body: { refresh_token: current.refresh_token } });
    if (res.status === 401 || res.status === 400) {
      // Expired, revoked, or already used: this device is signed out; pairing again is needed.
      const err = await errorFrom(res);
      await tokens.clear();
      throw new ApiError(401, 'signed_out', err.message);
    }
    if (!res.ok) throw await errorFrom(res);
    return tokens.set(await res.json(), now());
  }

  /** Renews the tokens; concurrent callers share one request. */
  function refresh() {
    if (!inflight) inflight = doRefresh().finally(() => { inflight = null; });
    return inflight;
  }

  async function accessToken() {
    if (inflight) return (await inflight).access_token;
    const t = await tokens.get();
    if (!t?.refresh_token && !t?.access_token) throw notPaired();
    if (t.access_token && (t.expires_at ?? 0) > now()) return t.access_token;
    return (await refresh()).access_token;
  }

  /**
   * A JSON request. `auth: false` for the public endpoints. `raw: true` returns the Response
   * (2xx only), for the event stream. `withEtag: true` returns {data, etag}.
   */
  async function request(method, path, { body, auth = true, raw = false, signal, headers, withEtag = false } = {}) {
    let token = auth ? await accessToken() : undefined;
    let res = await send(method, path, { body, token, signal, headers });
    if (res.status === 401 && auth) {
      // Another caller may have renewed the token meanwhile: use the new one, else refresh.
      const t = await tokens.get();
      token = t?.access_token && t.access_token !== token && (t.expires_at ?? 0) > now()
        ? t.access_token
        : (await refresh()).access_token;
      res = await send(method, path, { body, token, signal, headers });
    }
    if (!res.ok) throw await errorFrom(res);
    if (raw) return res;
    if (res.status === 204) return null;
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    // The version of what was read, for a later If-Match (PATCH /contacts/{id}).
    return withEtag ? { data, etag: res.headers.get('ETag') } : data;
  }

  async function signIn(path, body) {
    const answer = await request('POST', path, { body, auth: false });
    await tokens.set(answer, now());
    return answer.user;
  }

  return {
    request,
    refresh,
    accessToken,
    get: (path, opts) => request('GET', path, opts),
    post: (path, body, opts) => request('POST', path, { ...opts, body }),
    patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
    health: () => request('GET', '/health', { auth: false }),
    pair: (code, device) => signIn('/auth/pair', { code, device }),
    login: (username, password, device) => signIn('/auth/login', { username, password, device }),
    async logout() {
      try {
        await request('POST', '/auth/logout');
      } finally {
        await tokens.clear();
      }
    },
  };
}
