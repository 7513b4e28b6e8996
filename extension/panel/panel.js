// The side panel (an extension page in an iframe on WhatsApp Web). It talks only to the
// worker: requests through runtime messages, pushes (chat changes, the insight stream)
// through a port. Text from the chat or the server is only ever set with textContent.

import { ext, ask } from '../shared/ext.js';
import { t, initI18n } from '../shared/i18n.js';
import { SENTIMENTS, INTENTS, STAGES, trendBars, lastCustomerMessage, citationTitles } from './model.js';
import { createContactCard } from './contact-card.js';
import { initWorkday } from './workday-view.js';
import { shortcutOf } from '../shared/keyboard.js';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k === 'style') node.style.cssText = v;
    else if (k.startsWith('aria-') || k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
};

const state = {
  status: null,
  chat: null,
  conversationId: null,
  conversation: null,
  insight: null,
  history: [],
  partial: [],
  analysing: false,
  dismissed: new Set(),
  corrected: {},
  formDirty: false,
  loadError: null,
  contactEtag: null,
  knownTags: null,
};
let workday = null;
const card = createContactCard({ state, ask, t, el });

// ---- notices: server down, not paired, no chat ------------------------------------------------
function notice() {
  const n = serverNotice();
  // The queue needs a server and a pairing, not an open chat.
  if (n || state.view === 'queue' || state.view === 'help') return n;
  return chatNotice();
}

function serverNotice() {
  const s = state.status;
  if (!s) return { title: t('loading'), text: '' };
  if (s.server === 'unreachable') {
    return { error: true, title: t('noticeServerDownTitle'), text: t('noticeServerDownText', [s.serverUrl]), code: 'conversa serve' };
  }
  if (s.server === 'incompatible') {
    return { error: true, title: t('noticeIncompatibleTitle'), text: t('noticeIncompatibleText', [String(s.apiVersion), String(s.expectedApiVersion)]) };
  }
  if (s.server === 'error') return { error: true, title: t('noticeServerErrorTitle'), text: s.error?.message ?? '' };
  if (!s.paired) return { title: t('noticeNotPairedTitle'), text: t('noticeNotPairedText'), code: 'conversa pair' };
  return null;
}

function chatNotice() {
  if (!state.chat?.chat) return { title: t('noticeNoChatTitle'), text: t('noticeNoChatText') };
  if (state.loadError) return { error: true, title: t('noticeLoadErrorTitle'), text: state.loadError };
  if (!state.conversationId) {
    if (state.chat.delivery === 'queued') return { title: state.chat.chat.title ?? '', text: t('noticeQueued') };
    return { title: state.chat.chat.title ?? '', text: t('noticeReading') };
  }
  return null;
}

function renderNotice() {
  const n = notice();
  const box = $('notice');
  box.hidden = !n;
  $('content').hidden = Boolean(n) || state.view !== 'chat';
  $('queue-view').hidden = Boolean(n) || state.view !== 'queue';
  $('history-view').hidden = Boolean(n) || state.view !== 'history';
  $('help-view').hidden = Boolean(n) || state.view !== 'help';
  const s = state.status;
  $('server-dot').className = `dot ${!s ? '' : s.server !== 'ok' ? 'bad' : s.paired ? 'ok' : 'warn'}`;
  if (!n) return;
  box.classList.toggle('error', Boolean(n.error));
  $('notice-title').textContent = n.title;
  $('notice-text').textContent = n.text;
  $('notice-code').hidden = !n.code;
  $('notice-code').textContent = n.code ?? '';
}

// ---- analysis ----------------------------------------------------------------------------------
function renderAnalysis() {
  const ins = state.insight;
  const status = $('analysis-state');
  const model = state.status?.model;
  status.classList.remove('spinner');
  if (state.analysing || ins?.state === 'pending') {
    status.textContent = t('analysing');
    status.classList.add('spinner');
  } else if (model?.state === 'loading') {
    status.textContent = t('modelLoading');
    status.classList.add('spinner');
  } else if (ins?.state === 'unavailable') {
    status.textContent = t('analysisUnavailable', [ins.error?.message ?? model?.error?.message ?? '']);
  } else if (model?.state === 'unavailable') {
    status.textContent = t('modelUnavailable', [model.error?.message ?? '']);
  } else if (!ins) {
    status.textContent = t('noAnalysisYet');
  } else {
    status.textContent = '';
  }

  const sentiment = state.corrected.sentiment ?? ins?.sentiment?.label ?? null;
  const chips = $('sentiment');
  chips.replaceChildren(...SENTIMENTS.map((label) => {
    const pressed = label === sentiment;
    const chip = el('button', {
      type: 'button',
      class: `chip ${label}${pressed && state.corrected.sentiment ? ' corrected' : ''}`,
      text: t(`sentiment_${label}`),
      'aria-pressed': String(pressed),
      'data-label': label,
      title: pressed ? t('currentLabel') : t('correctTo', [t(`sentiment_${label}`)]),
    });
    chip.addEventListener('click', () => correct('sentiment', label));
    return chip;
  }));

  const intent = state.corrected.intent ?? ins?.intent?.label ?? '';
  const select = $('intent');
  select.value = intent;
  select.classList.toggle('corrected', Boolean(state.corrected.intent));
  select.dataset.label = intent;

  $('trend').replaceChildren(...trendBars(state.history).map((bar) => el('span', {
    class: bar.label, title: `${t(`sentiment_${bar.label}`)} ${bar.when}`, style: `height:${bar.height}px`,
  })));
  $('summary').textContent = ins?.summary || (state.analysing ? '…' : '—');
  $('last-message').textContent = lastCustomerMessage(state.conversation) ?? '—';
}

async function correct(task, label) {
  const current = state.corrected[task] ?? state.insight?.[task]?.label;
  if (!state.conversationId || label === current) return;
  try {
    await ask('panel.labels', { conversationId: state.conversationId, [task]: label });
    state.corrected[task] = label;
  } catch (err) {
    $('analysis-state').textContent = t('correctionFailed', [err.message ?? '']);
  }
  renderAnalysis();
}

// ---- suggestions -------------------------------------------------------------------------------
function suggestionList() {
  if (state.partial.length) return state.partial.map((text) => ({ id: null, text, streaming: true }));
  return (state.insight?.suggestions ?? []).filter((s) => !state.dismissed.has(s.id));
}

function renderSuggestions() {
  const list = suggestionList();
  $('suggestions').replaceChildren(...list.map((s) => {
    const use = el('button', { type: 'button', class: 'use', text: s.text, title: t('insertHint') });
    use.addEventListener('click', () => insert(s));
    const body = el('div', { class: 'body' }, use);
    const titles = citationTitles(s);
    // Where a fact came from (the shop's knowledge), so the attendant can trust or check it.
    if (titles.length) body.append(el('small', { class: 'source', text: t('suggestionSource', [titles.join(' · ')]) }));
    const li = el('li', { class: `suggestion${s.streaming ? ' streaming' : ''}` }, body);
    if (s.id) {
      li.dataset.id = s.id;
      const dismiss = el('button', { type: 'button', class: 'dismiss', text: '×', title: t('dismiss'), 'aria-label': t('dismiss') });
      dismiss.addEventListener('click', () => dismissSuggestion(s));
      li.append(dismiss);
    }
    return li;
  }));
  if (!list.length) $('suggestions').append(el('li', { class: 'muted', text: state.analysing ? t('suggestionsComing') : t('noSuggestions') }));
}

async function insert(s) {
  $('insert-status').textContent = '';
  try {
    const result = await ask('panel.insertDraft', { text: s.text });
    if (!result?.ok) {
      $('insert-status').textContent = t('insertFailed');
      return;
    }
    $('insert-status').textContent = t('inserted');
    if (s.id) await ask('panel.feedback', { suggestionId: s.id, action: 'inserted' }).catch(() => {});
  } catch (err) {
    $('insert-status').textContent = t('insertFailed');
  }
}

async function dismissSuggestion(s) {
  state.dismissed.add(s.id);
  renderSuggestions();
  await ask('panel.feedback', { suggestionId: s.id, action: 'dismissed' }).catch(() => {});
}

function render() {
  renderNotice();
  if ($('content').hidden) return;
  card.render();
  renderAnalysis();
  renderSuggestions();
}

// ---- data flow ---------------------------------------------------------------------------------
let port = null;

async function loadConversation(id) {
  state.conversationId = id;
  state.loadError = null;
  try {
    const out = await ask('panel.conversation', { id });
    if (state.conversationId !== id) return;
    state.conversation = out.conversation;
    state.history = out.history;
    if (!state.analysing || out.insight?.state !== 'pending') state.insight = out.insight;
    state.analysing = out.insight?.state === 'pending';
    if (!state.formDirty) await card.loadVersion();
    workday?.conversationLoaded();
  } catch (err) {
    if (state.conversationId === id) state.loadError = err.message ?? String(err);
  }
  port?.postMessage({ type: 'watch', conversationId: id });
  render();
}

function onChat(chatState) {
  const previous = state.conversationId;
  state.chat = chatState;
  const id = chatState?.conversationId ?? null;
  if (id !== previous) {
    state.conversation = null;
    state.insight = null;
    state.history = [];
    state.partial = [];
    state.analysing = false;
    state.dismissed = new Set();
    state.corrected = {};
    state.formDirty = false;
    state.contactEtag = null;
    $('contact-conflict').hidden = true;
    $('insert-status').textContent = '';
    $('contact-saved').textContent = '';
    if (!id) {
      state.conversationId = null;
      port?.postMessage({ type: 'watch', conversationId: null });
    } else {
      loadConversation(id);
    }
  } else if (id && chatState.analysis && chatState.analysis !== 'unchanged') {
    loadConversation(id); // new messages (analysed or not): refresh the status, the card, the last message
  }
  render();
}

async function onStreamEvent(event, data) {
  if (event === 'state') {
    if (data.state === 'pending') {
      state.analysing = true;
      state.partial = [];
    } else if (data.state === 'unavailable') {
      state.analysing = false;
      state.insight = { ...(state.insight ?? {}), state: 'unavailable', error: data.error ?? null };
    } else {
      state.analysing = false;
    }
  } else if (event === 'labels') {
    state.insight = { ...(state.insight ?? {}), sentiment: data.sentiment, intent: data.intent };
    state.corrected = {};
  } else if (event === 'suggestion') {
    state.analysing = true;
    state.partial[data.index] = data.text;
    state.partial = Array.from(state.partial, (x) => x ?? '');
  } else if (event === 'insight') {
    state.insight = data;
    state.partial = [];
    state.analysing = data.state === 'pending';
    state.dismissed = new Set();
    state.corrected = {};
    const id = state.conversationId;
    ask('panel.history', { id }).then((out) => {
      if (state.conversationId === id) {
        state.history = out.history;
        renderAnalysis();
      }
    }).catch(() => {});
  }
  render();
}

function connect() {
  port = ext.runtime.connect({ name: 'panel' });
  port.onMessage.addListener((msg) => {
    if (msg.type === 'chat') onChat(msg.state);
    else if (msg.type === 'sse' && msg.conversationId === state.conversationId) onStreamEvent(msg.event, msg.data);
    else if (msg.type === 'shortcut') workday?.shortcut(msg);
  });
  port.onDisconnect.addListener(() => {
    port = null;
    setTimeout(() => {
      connect();
      if (state.conversationId) port.postMessage({ type: 'watch', conversationId: state.conversationId });
    }, 1000);
  });
}

async function refreshStatus(fresh = false) {
  try {
    const out = await ask('panel.state', { fresh });
    const wasOk = state.status?.server === 'ok' && state.status?.paired;
    state.status = out.status;
    const ok = out.status.server === 'ok' && out.status.paired;
    if (!state.chat || out.chat?.updated_at !== state.chat?.updated_at) onChat(out.chat);
    else if (ok && state.conversationId && (!wasOk || state.loadError)) loadConversation(state.conversationId);
    if (ok && !wasOk) workday?.loadQueue();
  } catch (err) {
    state.status = { server: 'error', error: err, paired: false };
  }
  render();
  const ok = state.status.server === 'ok' && state.status.paired;
  clearTimeout(refreshStatus.timer);
  refreshStatus.timer = setTimeout(() => refreshStatus(true), ok ? 30000 : 4000);
}

async function main() {
  await initI18n(ask);
  $('contact-stage').replaceChildren(...STAGES.map((s) => el('option', { value: s, text: t(`stage_${s}`) })));
  $('intent').replaceChildren(...INTENTS.map((s) => el('option', { value: s, text: t(`intent_${s}`) })));
  $('intent').addEventListener('change', (e) => correct('intent', e.target.value));
  $('contact-form').addEventListener('input', () => { state.formDirty = true; });
  card.wire();
  workday = initWorkday({
    state,
    ask,
    t,
    el,
    onView: () => render(),
    insertSuggestion: (index) => {
      const s = suggestionList()[index];
      if (s && !s.streaming) insert(s);
    },
  });
  document.addEventListener('keydown', (event) => {
    const shortcut = shortcutOf(event);
    if (!shortcut) return;
    event.preventDefault();
    workday.shortcut(shortcut);
  });
  $('notice-retry').addEventListener('click', () => refreshStatus(true));
  $('hide').addEventListener('click', () => ask('panel.setOpen', { open: false }).catch(() => {}));
  $('reanalyze').addEventListener('click', async () => {
    if (!state.conversationId) return;
    try {
      await ask('panel.analyze', { conversationId: state.conversationId });
      state.analysing = true;
    } catch (err) {
      $('analysis-state').textContent = err.message ?? '';
    }
    renderAnalysis();
  });
  connect();
  await refreshStatus(true);
}

main();
