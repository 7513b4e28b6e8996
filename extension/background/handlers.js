// What each message asks the worker to do. Two callers, told apart by the sender:
// content scripts on web.whatsapp.com (only `content.*`), and the extension's own pages —
// panel, popup, options — (everything else). A content script can therefore never sign in,
// read contacts or change settings, even if WhatsApp's page managed to talk to it.

import { API_VERSION, KEYS, normaliseServerUrl, getServerUrl, DEFAULT_SERVER_URL } from './config.js';
import { ApiError, NetworkError } from './api.js';

const QUICK_REPLIES_TTL = 60_000;
const STATUS_TTL = 3_000;

/** Plain, serialisable form of an error for the message channel. */
export function errorOut(err) {
  if (err instanceof NetworkError) return { kind: 'unreachable', code: 'unreachable', message: err.message };
  if (err instanceof ApiError) {
    const kind = err.code === 'not_paired' || err.code === 'signed_out' ? 'not_paired' : 'api';
    return { kind, status: err.status, code: err.code, message: err.message, field: err.field };
  }
  return { kind: 'internal', code: 'internal', message: String(err?.message ?? err) };
}

const localDate = (d = new Date()) =>
  `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

const deviceName = (ua) => {
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Edg\//.test(ua) ? 'Edge' : 'Chromium';
  return `Conversa extension (${browser})`;
};

/**
 * @param {object} deps
 * @param {object} deps.api createApi()
 * @param {object} deps.queue createCaptureQueue()
 * @param {object} deps.tokens createTokenStore()
 * @param {object} deps.storage chrome.storage
 * @param {object} deps.tabs per-tab chat state (createTabState())
 * @param {(tabId: number, message: object) => void} deps.notifyPanel
 * @param {(tabId: number, message: object) => Promise<any>} deps.sendToTab
 * @param {(origin: string) => Promise<boolean>} deps.hasPermission
 * @param {string} deps.userAgent
 */
export function createHandlers(deps) {
  const { api, queue, tokens, storage, tabs, notifyPanel, sendToTab, hasPermission } = deps;
  let statusCache = null;
  let quickCache = null;

  async function status({ fresh = false } = {}) {
    if (!fresh && statusCache && Date.now() - statusCache.at < STATUS_TTL) return statusCache.value;
    const serverUrl = await getServerUrl(storage);
    const t = await tokens.get();
    const out = {
      serverUrl,
      paired: Boolean(t?.refresh_token || t?.access_token),
      user: t?.user ?? null,
      queued: await queue.size(),
      expectedApiVersion: API_VERSION,
    };
    try {
      const health = await api.health();
      out.apiVersion = health.api_version ?? null;
      out.serverVersion = health.version ?? null;
      out.model = health.model ?? null;
      out.server = health.api_version === API_VERSION ? 'ok' : 'incompatible';
    } catch (err) {
      out.server = err instanceof NetworkError ? 'unreachable' : 'error';
      out.error = errorOut(err);
    }
    statusCache = { at: Date.now(), value: out };
    return out;
  }

  const forgetStatus = () => { statusCache = null; };

  async function quickReplies() {
    if (quickCache && Date.now() - quickCache.at < QUICK_REPLIES_TTL) return quickCache.items;
    let items = [];
    try {
      const answer = await api.get('/quick-replies');
      items = Array.isArray(answer?.items) ? answer.items : [];
    } catch (err) {
      // The endpoint comes in a later server version: 404 means "none yet".
      if (!(err instanceof ApiError && (err.status === 404 || err.status === 405))) throw err;
    }
    items = items
      .filter((q) => q && typeof q.shortcut === 'string' && typeof q.text === 'string')
      .map((q) => ({ id: q.id ?? q.shortcut, shortcut: q.shortcut.replace(/^\//, ''), text: q.text, intents: q.intents ?? [] }));
    quickCache = { at: Date.now(), items };
    return items;
  }

  const content = {
    async 'content.hello'(_msg, tabId) {
      const got = await storage.local.get(KEYS.panelOpen);
      queue.flush().catch(() => {});
      return { panelOpen: got[KEYS.panelOpen] !== false, tabId };
    },
    async 'content.setPanelOpen'(msg) {
      await storage.local.set({ [KEYS.panelOpen]: Boolean(msg.open) });
      return {};
    },
    async 'content.chat'(msg, tabId) {
      // The open chat changed (or closed); the capture follows when it differs from the last.
      const chat = msg.chat ? { key: String(msg.chat.key), title: msg.chat.title ?? null } : null;
      const current = await tabs.get(tabId);
      // The same chat re-rendered keeps what is known about it.
      const state = chat && current?.chat?.key === chat.key
        ? await tabs.update(tabId, () => ({ chat }))
        : await tabs.set(tabId, { chat, conversationId: null, contactName: null, delivery: chat ? 'reading' : 'none' });
      notifyPanel(tabId, { type: 'chat', state });
      return {};
    },
    async 'content.capture'(msg, tabId) {
      const capture = msg.capture;
      if (!capture?.chat || !Array.isArray(capture.messages)) throw new Error('not a capture');
      const chatKey = String(msg.chatKey ?? '');
      const { key } = await queue.enqueue(capture, { tabId, chatKey });
      const result = await queue.flush();
      const mine = result.results.find((r) => r.item.key === key);
      if (mine?.answer) return { delivery: 'sent', ...mine.answer };
      if (mine?.error) return { delivery: 'rejected', error: errorOut(mine.error) };
      const state = await tabs.update(tabId, (s) => (s?.chat?.key === chatKey ? { delivery: 'queued' } : {}));
      notifyPanel(tabId, { type: 'chat', state });
      forgetStatus();
      return { delivery: 'queued', pending: result.pending, error: result.error ? errorOut(result.error) : null };
    },
    async 'content.quickReplies'(_msg, tabId) {
      const items = await quickReplies();
      const state = await tabs.get(tabId);
      return { items, contactName: state?.contactName || state?.chat?.title || '' };
    },
  };

  const pages = {
    async status(msg) {
      return status({ fresh: Boolean(msg.fresh) });
    },
    async 'auth.pair'(msg) {
      const code = String(msg.code ?? '').trim();
      if (!code) throw new ApiError(400, 'invalid_input', 'code is required', 'code');
      const user = await api.pair(code, deviceName(deps.userAgent));
      forgetStatus();
      queue.flush().catch(() => {});
      return { user };
    },
    async 'auth.login'(msg) {
      const user = await api.login(String(msg.username ?? ''), String(msg.password ?? ''), deviceName(deps.userAgent));
      forgetStatus();
      queue.flush().catch(() => {});
      return { user };
    },
    async 'auth.logout'() {
      try {
        await api.logout();
      } catch (err) {
        if (!(err instanceof NetworkError || err instanceof ApiError)) throw err;
      }
      forgetStatus();
      return {};
    },
    async 'metrics.today'() {
      return api.get(`/metrics?from=${localDate()}`);
    },
    async 'settings.get'() {
      const got = await storage.local.get([KEYS.serverUrl, KEYS.language]);
      return {
        serverUrl: got[KEYS.serverUrl] || DEFAULT_SERVER_URL,
        defaultServerUrl: DEFAULT_SERVER_URL,
        language: got[KEYS.language] || 'auto',
      };
    },
    async 'settings.set'(msg) {
      const changes = {};
      if (msg.language !== undefined) {
        if (!['auto', 'pt_BR', 'en'].includes(msg.language)) throw new ApiError(400, 'invalid_input', 'unknown language', 'language');
        changes[KEYS.language] = msg.language;
      }
      if (msg.serverUrl !== undefined) {
        let origin;
        try {
          origin = normaliseServerUrl(msg.serverUrl);
        } catch (err) {
          throw new ApiError(400, 'invalid_input', err.message, 'serverUrl');
        }
        if (!(await hasPermission(origin))) {
          throw new ApiError(403, 'permission_missing', `the extension may not reach ${origin} yet`, 'serverUrl');
        }
        const before = await getServerUrl(storage);
        changes[KEYS.serverUrl] = origin;
        // Tokens belong to one server: another server means pairing again.
        if (origin !== before) await tokens.clear();
      }
      await storage.local.set(changes);
      forgetStatus();
      quickCache = null;
      return pages['settings.get']();
    },
    async 'panel.state'(msg, tabId) {
      return { status: await status({ fresh: Boolean(msg.fresh) }), chat: await tabs.get(tabId) };
    },
    async 'panel.conversation'(msg, tabId) {
      const id = encodeURIComponent(msg.id);
      const conversation = await api.get(`/conversations/${id}`);
      let insight = null;
      try {
        insight = await api.get(`/conversations/${id}/insights`);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
      }
      const history = await api.get(`/conversations/${id}/insights/history`).catch(() => ({ items: [] }));
      if (tabId != null) {
        await tabs.update(tabId, (s) => (s?.conversationId === msg.id
          ? { contactName: conversation?.contact?.name ?? null } : {}));
      }
      return { conversation, insight, history: history?.items ?? [] };
    },
    async 'panel.history'(msg) {
      const history = await api.get(`/conversations/${encodeURIComponent(msg.id)}/insights/history`);
      return { history: history?.items ?? [] };
    },
    async 'panel.patchContact'(msg, tabId) {
      // With the ETag the panel read, a change made meanwhile by someone else answers 412.
      const headers = msg.etag ? { 'If-Match': String(msg.etag) } : undefined;
      const { data: contact, etag } = await api.patch(`/contacts/${encodeURIComponent(msg.id)}`, msg.changes ?? {},
        { headers, withEtag: true });
      if (tabId != null && contact?.name) await tabs.update(tabId, () => ({ contactName: contact.name }));
      return { contact, etag };
    },
    async 'panel.labels'(msg) {
      const body = {};
      if (msg.sentiment) body.sentiment = msg.sentiment;
      if (msg.intent) body.intent = msg.intent;
      await api.post(`/conversations/${encodeURIComponent(msg.conversationId)}/labels`, body);
      return {};
    },
    async 'panel.feedback'(msg) {
      await api.post(`/suggestions/${encodeURIComponent(msg.suggestionId)}/feedback`, { action: msg.action });
      return {};
    },
    async 'panel.analyze'(msg) {
      return api.post(`/conversations/${encodeURIComponent(msg.conversationId)}/analyze`, {});
    },
    async 'panel.insertDraft'(msg, tabId) {
      if (tabId == null) throw new Error('no tab');
      return sendToTab(tabId, { type: 'content.insertDraft', text: String(msg.text ?? '') });
    },
    async 'panel.setOpen'(msg, tabId) {
      await storage.local.set({ [KEYS.panelOpen]: Boolean(msg.open) });
      if (tabId != null) await sendToTab(tabId, { type: 'content.setPanelOpen', open: Boolean(msg.open) }).catch(() => {});
      return {};
    },
  };

  return { content, pages, status, forgetStatus };
}
