// The attendant's day, worker side: the queue badge on the extension's icon, follow-up alarms
// that raise a browser notification at the due time even with no panel open (chrome.alarms
// wake this worker), done/snooze from the notification, and the panel's requests for status,
// hand-over, queue, follow-ups, history and the contact card (with its ETag).

import { ApiError } from './api.js';
import { badgeText, badgeColor } from '../panel/queue-model.js';

export const POLL_ALARM = 'conversa.queue';
const FOLLOWUP = 'followup:';
const META = 'conversa.followups'; // storage.local: {id: {title, note, due_at}} of scheduled alarms
const SNOOZE_MS = 3_600_000;
const TAGS_TTL = 60_000;

const enc = encodeURIComponent;

/**
 * @param {object} deps
 * @param {object} deps.api createApi()
 * @param {object} deps.ext chrome/browser namespace (alarms, notifications, action, i18n, runtime)
 * @param {object} deps.area storage area for the alarms' metadata (worker-only storage.local)
 * @param {(tabId: number, message: object) => Promise<any>} deps.sendToTab
 * @param {() => number} [deps.now]
 */
export function createWorkday({ api, ext, area, sendToTab, now = () => Date.now() }) {
  const t = (key, subs) => ext.i18n.getMessage(key, subs) || key;
  let tagsCache = null;

  async function setBadge(queue) {
    await ext.action?.setBadgeText?.({ text: badgeText(queue?.count ?? 0) });
    await ext.action?.setBadgeBackgroundColor?.({ color: badgeColor(queue?.items) });
  }

  async function queue() {
    const out = await api.get('/queue');
    await setBadge(out).catch(() => {});
    return out;
  }

  async function schedule(f) {
    const got = (await area.get(META))[META] ?? {};
    const name = FOLLOWUP + f.id;
    if (f.done) {
      delete got[f.id];
      await ext.alarms.clear(name);
    } else {
      got[f.id] = { title: f.title ?? '', note: f.note ?? '', due_at: f.due_at, conversation_id: f.conversation_id };
      // A past due time still fires (once, right away): a reminder is never lost to a sleeping worker.
      await ext.alarms.create(name, { when: Math.max(Date.parse(f.due_at), now() + 500) });
    }
    await area.set({ [META]: got });
  }

  /** Alarms for every not-done follow-up of this user; alarms of others are dropped. */
  async function syncFollowups() {
    const { items } = await api.get('/followups?done=false');
    const keep = new Set(items.map((f) => f.id));
    for (const alarm of await ext.alarms.getAll()) {
      if (alarm.name.startsWith(FOLLOWUP) && !keep.has(alarm.name.slice(FOLLOWUP.length))) await ext.alarms.clear(alarm.name);
    }
    const meta = (await area.get(META))[META] ?? {};
    for (const id of Object.keys(meta)) if (!keep.has(id)) delete meta[id];
    await area.set({ [META]: meta });
    for (const f of items) {
      const known = meta[f.id];
      if (!known || known.due_at !== f.due_at || !(await ext.alarms.get(FOLLOWUP + f.id))) await schedule(f);
    }
  }

  async function notify(id) {
    const meta = ((await area.get(META))[META] ?? {})[id];
    if (!meta) return;
    const options = {
      type: 'basic',
      iconUrl: ext.runtime.getURL('icons/icon-128.png'),
      title: t('followupDueTitle', [meta.title || '—']),
      message: meta.note || t('followupDueNoNote'),
      priority: 2,
    };
    try {
      await ext.notifications.create(FOLLOWUP + id, { ...options, buttons: [{ title: t('followupDone') }, { title: t('followupSnooze') }] });
    } catch {
      await ext.notifications.create(FOLLOWUP + id, options); // Firefox: no notification buttons
    }
  }

  async function onAlarm(alarm) {
    if (alarm.name === POLL_ALARM) {
      await queue();
      await syncFollowups();
    } else if (alarm.name.startsWith(FOLLOWUP)) {
      await notify(alarm.name.slice(FOLLOWUP.length));
      await queue().catch(() => {});
    }
  }

  async function patchFollowup(id, changes) {
    const f = await api.patch(`/followups/${enc(id)}`, changes);
    await schedule(f);
    return f;
  }

  async function onButton(notificationId, index) {
    if (!notificationId.startsWith(FOLLOWUP)) return;
    const id = notificationId.slice(FOLLOWUP.length);
    if (index === 0) await patchFollowup(id, { done: true });
    else await patchFollowup(id, { due_at: new Date(now() + SNOOZE_MS).toISOString() });
    await ext.notifications.clear(notificationId);
    await queue().catch(() => {});
  }

  async function start() {
    if (!(await ext.alarms.get(POLL_ALARM))) await ext.alarms.create(POLL_ALARM, { periodInMinutes: 1, delayInMinutes: 0.1 });
  }

  const pages = {
    async 'panel.queue'() {
      return queue();
    },
    async 'panel.setStatus'(msg) {
      const out = await api.patch(`/conversations/${enc(msg.conversationId)}`, { status: msg.status });
      queue().catch(() => {});
      return out;
    },
    async 'panel.attendants'() {
      return api.get('/attendants');
    },
    async 'panel.transfer'(msg) {
      const body = { to_user: String(msg.toUser ?? '') };
      if (msg.note) body.note = String(msg.note);
      const out = await api.post(`/conversations/${enc(msg.conversationId)}/transfer`, body);
      queue().catch(() => {});
      return out;
    },
    async 'panel.followups'(msg) {
      return api.get(`/followups?done=false&conversation_id=${enc(msg.conversationId)}`);
    },
    async 'panel.followupCreate'(msg) {
      const body = { conversation_id: msg.conversationId, due_at: msg.dueAt };
      if (msg.note) body.note = String(msg.note);
      const f = await api.post('/followups', body);
      await schedule(f);
      return f;
    },
    async 'panel.followupPatch'(msg) {
      const f = await patchFollowup(msg.id, msg.changes ?? {});
      queue().catch(() => {});
      return f;
    },
    async 'panel.contactHistory'(msg) {
      const q = new URLSearchParams({ limit: String(msg.limit ?? 20) });
      if (msg.cursor) q.set('cursor', msg.cursor);
      return api.get(`/contacts/${enc(msg.contactId)}/history?${q}`);
    },
    async 'panel.contact'(msg) {
      const { data, etag } = await api.get(`/contacts/${enc(msg.id)}`, { withEtag: true });
      return { contact: data, etag };
    },
    async 'panel.tags'() {
      if (tagsCache && now() - tagsCache.at < TAGS_TTL) return { tags: tagsCache.tags };
      const { items } = await api.get('/contacts');
      const tags = [...new Set(items.flatMap((c) => c.tags ?? []))].sort((a, b) => a.localeCompare(b));
      tagsCache = { at: now(), tags };
      return { tags };
    },
    async 'panel.openChat'(msg, tabId) {
      if (tabId == null) throw new ApiError(400, 'no_tab', 'no WhatsApp tab');
      return sendToTab(tabId, { type: 'content.openChat', title: String(msg.title ?? '') });
    },
  };

  return { pages, onAlarm, onButton, start, queue, syncFollowups, schedule, forgetTags: () => { tagsCache = null; } };
}
