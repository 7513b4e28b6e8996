// Where the tokens live. Content scripts must never be able to read them:
// - chrome.storage.session is restricted to trusted contexts (extension pages, the worker) by
//   default; it holds the access and refresh tokens for this browser session.
// - The refresh token is also kept in chrome.storage.local so a browser restart does not mean
//   pairing again — but only once local has been restricted with setAccessLevel (Chromium
//   supports it for local; Firefox only for session: there the extension pairs again after a
//   restart rather than expose the token to content scripts).

import { KEYS } from './config.js';

const SESSION_KEY = 'auth.tokens';

export async function restrictStorage(storage) {
  const out = { session: false, local: false };
  for (const area of ['session', 'local']) {
    try {
      if (typeof storage[area]?.setAccessLevel !== 'function') continue;
      await storage[area].setAccessLevel({ accessLevel: 'TRUSTED_CONTEXTS' });
      out[area] = true;
    } catch {
      // unsupported for this area in this browser
    }
  }
  return out;
}

/**
 * @param {{session: chrome.storage.StorageArea, local: chrome.storage.StorageArea}} storage
 * @param {{persistRefresh: () => Promise<boolean>}} options
 */
export function createTokenStore(storage, { persistRefresh = async () => false } = {}) {
  return {
    /** @returns {Promise<{access_token?: string, refresh_token?: string, expires_at?: number, user?: object}|null>} */
    async get() {
      const got = await storage.session.get(SESSION_KEY);
      if (got[SESSION_KEY]) return got[SESSION_KEY];
      if (!(await persistRefresh())) return null;
      const local = await storage.local.get([KEYS.refreshToken, KEYS.user]);
      if (!local[KEYS.refreshToken]) return null;
      return { refresh_token: local[KEYS.refreshToken], user: local[KEYS.user] ?? null, expires_at: 0 };
    },
    /** Stores a token answer of /auth/login|pair|refresh. */
    async set(answer, now = Date.now()) {
      const tokens = {
        access_token: answer.access_token,
        refresh_token: answer.refresh_token,
        // Renew a little early so a request never leaves with a token about to expire.
        expires_at: now + Math.max(0, (answer.expires_in ?? 900) - 30) * 1000,
        user: answer.user ?? null,
      };
      await storage.session.set({ [SESSION_KEY]: tokens });
      if (await persistRefresh()) {
        await storage.local.set({ [KEYS.refreshToken]: tokens.refresh_token, [KEYS.user]: tokens.user });
      }
      return tokens;
    },
    async clear() {
      await storage.session.remove(SESSION_KEY);
      await storage.local.remove([KEYS.refreshToken, KEYS.user]);
    },
  };
}
