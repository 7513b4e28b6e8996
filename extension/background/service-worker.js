// Conversa's background worker (an ES module). It is the only code that talks to the server:
// it holds the tokens, renews them one refresh at a time, queues captures while the server
// is unreachable, and proxies the insight event stream to the side panel of each tab.
// Every listener is registered at the top level, synchronously, so a woken worker gets the
// event that woke it.

import { createApi } from './api.js';
import { createCaptureQueue } from './capture-queue.js';
import { getServerUrl, originPattern } from './config.js';
import { createHandlers, errorOut } from './handlers.js';
import { followInsights } from './sse.js';
import { createTabState } from './tab-state.js';
import { createTokenStore, restrictStorage } from './tokens.js';
import { createWorkday } from './workday.js';

const ext = globalThis.browser ?? globalThis.chrome;
const storage = ext.storage;

// Tokens and captures must be out of content scripts' reach before anything is stored.
const access = restrictStorage(storage);
const tokens = createTokenStore(storage, { persistRefresh: async () => (await access).local });
const api = createApi({ fetch: (url, init) => fetch(url, init), tokens, serverUrl: () => getServerUrl(storage) });
const tabs = createTabState(storage.session);

/** Open side panels, by tab: {port, stream: AbortController|null, conversationId}. */
const panels = new Map();

function notifyPanel(tabId, message) {
  const panel = panels.get(tabId);
  if (!panel) return;
  try {
    panel.port.postMessage(message);
  } catch {
    panels.delete(tabId);
  }
}

const queue = createCaptureQueue({
  area: storage.local,
  send: (capture) => api.post('/captures', capture),
  onSent(item, answer) {
    if (item.tabId == null) return;
    tabs.update(item.tabId, (s) => (s?.chat?.key === item.chatKey
      ? { conversationId: answer.conversation_id, analysis: answer.analysis, delivery: 'sent' }
      : {}))
      .then((state) => { if (state?.chat?.key === item.chatKey) notifyPanel(item.tabId, { type: 'chat', state }); })
      .catch(() => {});
  },
});

// While captures wait for an unreachable server, try again with a growing delay (as long as
// this worker lives; a later capture or an opened panel also flushes).
let retryTimer = null;
let retryDelay = 5000;
async function flushSoon() {
  if (retryTimer) return;
  retryTimer = setTimeout(async () => {
    retryTimer = null;
    const out = await queue.flush().catch((err) => ({ error: err, pending: 1 }));
    if (out.pending) {
      retryDelay = Math.min(retryDelay * 2, 60000);
      flushSoon();
    } else {
      retryDelay = 5000;
      handlers.forgetStatus();
    }
  }, retryDelay);
}

const handlers = createHandlers({
  api,
  queue,
  tokens,
  storage,
  tabs,
  notifyPanel,
  sendToTab: (tabId, message) => ext.tabs.sendMessage(tabId, message, { frameId: 0 }),
  hasPermission: async (origin) => {
    if (new URL(origin).hostname === '127.0.0.1') return true;
    return ext.permissions.contains({ origins: [originPattern(origin)] });
  },
  userAgent: globalThis.navigator?.userAgent ?? '',
});

const workday = createWorkday({
  api,
  ext,
  area: storage.local,
  sendToTab: (tabId, message) => ext.tabs.sendMessage(tabId, message, { frameId: 0 }),
});
const pageHandlers = { ...handlers.pages, ...workday.pages };
const contentHandlers = {
  ...handlers.content,
  // A shortcut pressed on WhatsApp's page: the panel of that tab carries it out.
  async 'content.shortcut'(msg, tabId) {
    if (!panels.has(tabId)) return { delivered: false };
    notifyPanel(tabId, { type: 'shortcut', action: String(msg.action ?? ''), index: Number(msg.index ?? 0) });
    return { delivered: true };
  },
};

// Follow-ups ring at their time even with no panel open: alarms wake this worker.
ext.alarms?.onAlarm.addListener((alarm) => {
  workday.onAlarm(alarm).catch(() => {});
});
ext.notifications?.onButtonClicked?.addListener((id, index) => {
  workday.onButton(id, index).catch(() => {});
});
workday.start().catch(() => {});

const OWN_PAGES = ext.runtime.getURL('');
const WHATSAPP = /^https:\/\/web\.whatsapp\.com\//;

/** 'page' for the extension's own pages, 'content' for our script on WhatsApp, else null. */
function callerOf(sender) {
  if (sender.id !== ext.runtime.id) return null;
  const url = sender.url ?? '';
  if (url.startsWith(OWN_PAGES)) return 'page';
  if (sender.tab && WHATSAPP.test(url)) return 'content';
  return null;
}

ext.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  const caller = callerOf(sender);
  const table = caller === 'content' ? contentHandlers : caller === 'page' ? pageHandlers : null;
  const handler = table && typeof msg?.type === 'string' && Object.hasOwn(table, msg.type) ? table[msg.type] : null;
  if (!handler) {
    sendResponse({ ok: false, error: { kind: 'internal', code: 'unknown_message', message: 'not allowed' } });
    return false;
  }
  const tabId = sender.tab?.id ?? null;
  handler(msg, tabId)
    .then((result) => sendResponse({ ok: true, result }))
    .catch((err) => {
      const error = errorOut(err);
      if (error.kind === 'unreachable') flushSoon();
      sendResponse({ ok: false, error });
    });
  return true; // answered asynchronously
});

// The side panel keeps a port open: pushes (chat changes, stream events) go through it.
ext.runtime.onConnect.addListener((port) => {
  if (port.name !== 'panel' || callerOf(port.sender) !== 'page' || port.sender.tab?.id == null) {
    port.disconnect();
    return;
  }
  const tabId = port.sender.tab.id;
  const previous = panels.get(tabId);
  previous?.stream?.abort();
  const panel = { port, stream: null, conversationId: null };
  panels.set(tabId, panel);

  port.onMessage.addListener((msg) => {
    if (msg?.type !== 'watch') return;
    if (panel.conversationId === msg.conversationId && panel.stream && !panel.stream.signal.aborted) return;
    panel.stream?.abort();
    panel.conversationId = msg.conversationId ?? null;
    panel.stream = null;
    if (!panel.conversationId) return;
    const controller = new AbortController();
    panel.stream = controller;
    const conversationId = panel.conversationId;
    followInsights(api, conversationId, {
      signal: controller.signal,
      onEvent: (event, data) => notifyPanel(tabId, { type: 'sse', conversationId, event, data }),
      onError: (err) => notifyPanel(tabId, { type: 'stream-error', conversationId, error: errorOut(err) }),
    });
  });
  port.onDisconnect.addListener(() => {
    panel.stream?.abort();
    if (panels.get(tabId) === panel) panels.delete(tabId);
  });
  queue.flush().catch(() => {});
});

ext.tabs?.onRemoved?.addListener((tabId) => {
  tabs.remove(tabId).catch(() => {});
});

ext.runtime.onInstalled.addListener(() => {
  access.catch(() => {});
});
