// Constants and persisted settings of the worker. Settings live in chrome.storage.local
// (trusted contexts only, see tokens.js); nothing here is secret.

export const API_VERSION = 1;
export const API_BASE = '/api/v1';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:8765';
/** Captures kept while the server is unreachable; the oldest is dropped past this. */
export const QUEUE_LIMIT = 50;

export const KEYS = {
  serverUrl: 'settings.serverUrl',
  language: 'settings.language',
  panelOpen: 'ui.panelOpen',
  queue: 'captures.queue',
  refreshToken: 'auth.refreshToken',
  user: 'auth.user',
};

/**
 * "http://127.0.0.1:8765/" → "http://127.0.0.1:8765". Only http(s) origins, no path, query or
 * credentials; plain http only for loopback (a VPS must be reached over https).
 * @returns {string} the normalised origin
 * @throws {Error} with a short reason
 */
export function normaliseServerUrl(value) {
  let url;
  try {
    url = new URL(String(value ?? '').trim());
  } catch {
    throw new Error('not a URL');
  }
  if (url.username || url.password) throw new Error('no credentials in the URL');
  if (url.pathname !== '/' || url.search || url.hash) throw new Error('give only scheme, host and port');
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) throw new Error('use https for a server that is not on this computer');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('use http or https');
  return url.origin;
}

/** Host-permission pattern for a server origin ("https://crm.example.com/*"). */
export const originPattern = (origin) => `${new URL(origin).protocol}//${new URL(origin).hostname}/*`;

export async function getServerUrl(storage) {
  const got = await storage.local.get(KEYS.serverUrl);
  return got[KEYS.serverUrl] || DEFAULT_SERVER_URL;
}
