// The attendant's day in the side panel: status buttons, hand-over, "Lembrar" with its
// follow-ups, the "Fila" (queue), the "Histórico" (the contact's past periods), the help with
// the keyboard shortcuts. Everything goes through the worker (ask); chat text and notes are
// only ever set with textContent.

import { queueRows } from './queue-model.js';
import { periodView } from './history-model.js';
import { SHORTCUTS } from '../shared/keyboard.js';
import { formatDue, quickDue, isoWithOffset, langOf } from '../shared/time-format.js';

const SVG = 'http://www.w3.org/2000/svg';
const QUEUE_REFRESH_MS = 30_000;

/**
 * @param {object} deps
 * @param {object} deps.state the panel's state (conversationId, conversation, status…)
 * @param {Function} deps.ask request to the worker
 * @param {Function} deps.t translation
 * @param {Function} deps.el element builder (textContent only)
 * @param {(view: string) => void} deps.onView called after the view changed (the panel re-renders)
 * @param {(index: number) => void} deps.insertSuggestion
 */
export function initWorkday({ state, ask, t, el, onView, insertSuggestion }) {
  const $ = (id) => document.getElementById(id);
  const lang = () => langOf(t('localeTag'));
  const local = { attendants: null, remindDue: null, history: [], historyCursor: null, queueTimer: null };
  state.view = 'chat';

  // ---- views -------------------------------------------------------------------------------
  function setView(view) {
    state.view = view;
    for (const tab of document.querySelectorAll('.tabs [role="tab"]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.view === view));
    }
    if (view === 'queue') loadQueue();
    if (view === 'history') loadHistory(true);
    onView(view);
  }

  function say(id, text) {
    $(id).textContent = text;
  }

  // ---- status ------------------------------------------------------------------------------
  function renderStatus() {
    const status = state.conversation?.status ?? null;
    for (const b of document.querySelectorAll('#status-buttons .status')) {
      b.setAttribute('aria-pressed', String(b.dataset.status === status));
    }
  }

  async function setStatus(status) {
    const id = state.conversationId;
    if (!id) return;
    try {
      await ask('panel.setStatus', { conversationId: id, status });
      if (state.conversation && state.conversationId === id) state.conversation.status = status;
      say('workflow-status', t('statusSaved', [t(`status_${status}`)]));
    } catch (err) {
      say('workflow-status', t('actionFailed', [err.message ?? '']));
    }
    renderStatus();
    loadQueue();
  }

  // ---- hand-over ---------------------------------------------------------------------------
  async function openTransfer() {
    const form = $('transfer-form');
    form.hidden = !form.hidden;
    $('remind-form').hidden = true;
    if (form.hidden) return;
    try {
      local.attendants ??= (await ask('panel.attendants')).items;
      const me = state.status?.user?.id;
      const others = local.attendants.filter((u) => u.id !== me);
      $('transfer-to').replaceChildren(
        el('option', { value: '', text: t('transferChoose') }),
        ...others.map((u) => el('option', { value: u.id, text: u.username })),
      );
    } catch (err) {
      say('workflow-status', t('actionFailed', [err.message ?? '']));
    }
  }

  async function sendTransfer(event) {
    event.preventDefault();
    const to = $('transfer-to').value;
    if (!to || !state.conversationId) return;
    const name = $('transfer-to').selectedOptions[0]?.textContent ?? '';
    try {
      await ask('panel.transfer', { conversationId: state.conversationId, toUser: to, note: $('transfer-note').value.trim() });
      $('transfer-form').hidden = true;
      $('transfer-note').value = '';
      say('workflow-status', t('transferDone', [name]));
    } catch (err) {
      say('workflow-status', t('actionFailed', [err.message ?? '']));
    }
    loadQueue();
  }

  // ---- follow-ups --------------------------------------------------------------------------
  function chooseDue(due, choice = null) {
    local.remindDue = due;
    for (const b of document.querySelectorAll('#remind-form .choice')) b.setAttribute('aria-pressed', String(b.dataset.choice === choice));
    if (choice) $('remind-date').value = isoWithOffset(due).slice(0, 19);
    say('remind-when', due ? formatDue(due, new Date(), lang()) : '');
  }

  async function saveReminder(event) {
    event.preventDefault();
    const typed = $('remind-date').value;
    const due = local.remindDue ?? (typed ? new Date(typed) : null);
    if (!due || Number.isNaN(due.getTime()) || !state.conversationId) {
      say('remind-when', t('remindPickTime'));
      return;
    }
    try {
      await ask('panel.followupCreate', { conversationId: state.conversationId, dueAt: isoWithOffset(due), note: $('remind-note').value.trim() });
      $('remind-form').hidden = true;
      $('remind-note').value = '';
      chooseDue(null);
      $('remind-date').value = '';
      say('workflow-status', t('remindSaved', [formatDue(due, new Date(), lang())]));
    } catch (err) {
      say('workflow-status', t('actionFailed', [err.message ?? '']));
    }
    loadFollowups();
  }

  async function loadFollowups() {
    const id = state.conversationId;
    if (!id) return $('followups').replaceChildren();
    try {
      const { items } = await ask('panel.followups', { conversationId: id });
      if (state.conversationId !== id) return;
      $('followups').replaceChildren(...items.map(followupItem));
    } catch {
      $('followups').replaceChildren();
    }
  }

  function followupItem(f) {
    const done = el('button', { type: 'button', class: 'link', text: t('followupDone') });
    const snooze = el('button', { type: 'button', class: 'link', text: t('followupSnooze') });
    done.addEventListener('click', () => patchFollowup(f.id, { done: true }));
    snooze.addEventListener('click', () => patchFollowup(f.id, { due_at: isoWithOffset(new Date(Date.now() + 3_600_000)) }));
    return el('li', { class: f.due ? 'due' : '', 'data-id': f.id },
      el('span', { class: 'when', text: formatDue(f.due_at, new Date(), lang()) }),
      el('span', { class: 'what', text: f.note || '' }), done, snooze);
  }

  async function patchFollowup(id, changes) {
    try {
      await ask('panel.followupPatch', { id, changes });
    } catch (err) {
      say('workflow-status', t('actionFailed', [err.message ?? '']));
    }
    loadFollowups();
    loadQueue();
  }

  // ---- queue -------------------------------------------------------------------------------
  async function loadQueue() {
    clearTimeout(local.queueTimer);
    local.queueTimer = setTimeout(loadQueue, QUEUE_REFRESH_MS);
    const s = state.status;
    if (!s || s.server !== 'ok' || !s.paired) return;
    try {
      const q = await ask('panel.queue');
      $('queue-count').textContent = q.count ? String(q.count) : '';
      renderQueue(q.items);
      loadFollowups(); // the chat's reminders that came due meanwhile
    } catch (err) {
      say('queue-status', t('actionFailed', [err.message ?? '']));
    }
  }

  function renderQueue(items) {
    const rows = queueRows(items, { lang: lang() });
    say('queue-status', rows.length ? '' : t('queueEmpty'));
    $('queue-list').replaceChildren(...rows.map((r) => {
      const wait = r.kind === 'waiting'
        ? el('span', { class: `wait${r.overdue ? ' overdue' : r.nearSla ? ' near' : ''}`, text: t('queueWait', [r.waitText, r.slaText]) })
        : el('span', { class: 'wait', text: t('queueFollowup') });
      const line = el('span', { class: 'line' }, el('span', { class: 'title', text: r.title }));
      if (r.mood) line.append(el('span', { class: `mood ${r.mood}`, text: t(`sentiment_${r.mood}`) }));
      line.append(wait);
      const button = el('button', { type: 'button', class: `queue-item ${r.mood ?? ''}`, 'data-id': r.id, title: t('queueOpenHint') }, line);
      if (r.transferNote) button.append(el('p', { class: 'note', text: t('queueTransferNote', [r.transferNote]) }));
      if (r.followup) button.append(el('p', { class: 'fu', text: t('queueFollowupLine', [r.followup.dueText, r.followup.note]) }));
      button.addEventListener('click', () => openChat(r.title));
      return el('li', {}, button);
    }));
  }

  async function openChat(title) {
    say('queue-status', t('openChatSearching', [title]));
    try {
      const out = await ask('panel.openChat', { title });
      say('queue-status', out?.ok ? t('openChatOpened', [title]) : t('openChatNotFound', [title]));
    } catch (err) {
      say('queue-status', t('openChatNotFound', [title]));
    }
  }

  // ---- history -----------------------------------------------------------------------------
  async function loadHistory(reset) {
    const contactId = state.conversation?.contact?.id;
    if (!contactId) return;
    if (reset) {
      local.history = [];
      local.historyCursor = null;
      $('history-list').replaceChildren();
    }
    say('history-status', t('loading'));
    try {
      const page = await ask('panel.contactHistory', { contactId, cursor: local.historyCursor });
      if (state.conversation?.contact?.id !== contactId) return;
      $('history-notes').hidden = !page.notes;
      $('history-notes').textContent = page.notes ? t('historyNotes', [page.notes]) : '';
      local.history.push(...page.items);
      local.historyCursor = page.next_cursor;
      $('history-list').append(...page.items.map((p) => periodItem(periodView(p, lang()))));
      $('history-more').hidden = !page.next_cursor;
      say('history-status', local.history.length ? t('historyCount', [String(page.total)]) : t('historyEmpty'));
    } catch (err) {
      say('history-status', t('actionFailed', [err.message ?? '']));
    }
  }

  function periodItem(v) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 80 18');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', t('historySparkline'));
    if (v.points) {
      const line = document.createElementNS(SVG, 'polyline');
      line.setAttribute('points', v.points);
      svg.append(line);
    }
    const head = el('div', { class: 'line' }, el('span', { class: 'range', text: v.open ? t('historyOpen', [v.range]) : v.range }));
    if (v.sentiment) head.append(el('span', { class: `mood ${v.sentiment}`, text: t(`sentiment_${v.sentiment}`) }));
    head.append(svg); // last, so the sparklines line up
    const li = el('li', { class: `period${v.open ? ' open' : ''}` }, head);
    if (v.intent) li.append(el('p', { class: 'facts', text: t(`intent_${v.intent}`) }));
    li.append(el('p', { class: 'summary', text: v.summary || t('historyNoSummary') }));
    for (const tr of v.transfers) li.append(el('p', { class: 'note', text: t('historyTransfer', [tr.at, tr.note]) }));
    if (v.stages.length) li.append(el('p', { class: 'facts', text: t('historyStages', [v.stages.map((s) => t(`stage_${s}`)).join(' → ')]) }));
    for (const f of v.followups) li.append(el('p', { class: 'fu', text: t(f.done ? 'historyFollowupDone' : 'historyFollowup', [f.due, f.note]) }));
    return li;
  }

  /** An old customer writes again: the summary of their last finished period comes first. */
  async function loadPrevious() {
    const contactId = state.conversation?.contact?.id;
    $('previous').hidden = true;
    if (!contactId) return;
    try {
      const page = await ask('panel.contactHistory', { contactId, limit: 3 });
      if (state.conversation?.contact?.id !== contactId) return;
      const last = page.items.find((p) => p.ended_at && p.summary);
      if (!last) return;
      const v = periodView(last, lang());
      $('previous-when').textContent = t('previousSummary', [v.range]);
      $('previous-summary').textContent = v.summary;
      $('previous').hidden = false;
    } catch {
      // the history is a help, not a requirement: nothing shown
    }
  }

  // ---- help and shortcuts ------------------------------------------------------------------
  function renderHelp() {
    $('help-keys').replaceChildren(...SHORTCUTS.flatMap((s) => [el('dt', { text: s.keys }), el('dd', { text: t(s.help) })]));
  }

  function shortcut(sc) {
    if (sc.action === 'queue') setView('queue');
    else if (sc.action === 'resolve') setStatus('resolved');
    else if (sc.action === 'insert') insertSuggestion(sc.index);
  }

  // ---- wiring ------------------------------------------------------------------------------
  for (const tab of document.querySelectorAll('.tabs [role="tab"]')) tab.addEventListener('click', () => setView(tab.dataset.view));
  for (const b of document.querySelectorAll('#status-buttons .status')) b.addEventListener('click', () => setStatus(b.dataset.status));
  for (const b of document.querySelectorAll('#remind-form .choice')) b.addEventListener('click', () => chooseDue(quickDue(b.dataset.choice), b.dataset.choice));
  $('remind-date').addEventListener('input', () => chooseDue(null));
  $('transfer-toggle').addEventListener('click', openTransfer);
  $('remind-toggle').addEventListener('click', () => {
    $('remind-form').hidden = !$('remind-form').hidden;
    $('transfer-form').hidden = true;
  });
  $('transfer-form').addEventListener('submit', sendTransfer);
  $('remind-form').addEventListener('submit', saveReminder);
  $('queue-refresh').addEventListener('click', loadQueue);
  $('history-more').addEventListener('click', () => loadHistory(false));
  renderHelp();

  return {
    shortcut,
    setView,
    loadQueue,
    /** A conversation was (re)loaded: its status, follow-ups, and the history if shown. */
    conversationLoaded() {
      renderStatus();
      loadFollowups();
      loadPrevious();
      if (state.view === 'history') loadHistory(true);
    },
  };
}
