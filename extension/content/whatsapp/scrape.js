// Reads the open WhatsApp Web chat into the capture shape of API.md ("Capture"), without
// `captured_at`/`client` (the caller adds those). Read-only: never changes the page.

import * as S from './selectors.js';
import { parseDataId, isGroupJid, phoneFromJid } from './message-id.js';
import { plainText } from './plain-text.js';
import {
  parseTime, parseNumericDate, parseDividerDate, inferDateOrder, splitPrePlainText, formatTimestamp,
} from './timestamp.js';

// API limits: a capture carries at most 500 messages and 10,000 characters per text.
export const MAX_MESSAGES = 500;
export const MAX_TEXT = 10000;

const first = (root, selectors) => {
  for (const sel of selectors) {
    const el = root.querySelector(sel);
    if (el) return el;
  }
  return null;
};

function findContainer(document) {
  return first(document, S.CHAT_CONTAINER);
}

/**
 * The rows of the message list in DOM (= chronological) order, as
 * {idEl} for messages/system notices and {divider} for date dividers.
 */
function collectRows(container) {
  const rows = [...container.querySelectorAll(S.ROW)];
  if (rows.some((r) => r.matches(S.MESSAGE_ID) || r.querySelector(S.MESSAGE_ID))) {
    return rows.map((row) => {
      const idEl = row.matches(S.MESSAGE_ID) ? row : row.querySelector(S.MESSAGE_ID);
      return idEl ? { idEl } : { divider: row };
    });
  }
  // Fallback: no role=row markup; walk the bubbles (dividers are then invisible to us).
  const seen = new Set();
  const out = [];
  for (const bubble of container.querySelectorAll(S.BUBBLE)) {
    const idEl = bubble.closest(S.MESSAGE_ID);
    if (idEl && !seen.has(idEl)) {
      seen.add(idEl);
      out.push({ idEl });
    }
  }
  return out;
}

// Speed (tests/bench/bench_scrape.py: a 200-message chat well under 5 ms): one subtree walk
// per question where possible, querySelector when the first match is enough, and the bubble's
// visible time and sender label read only for the rows that need them.
const QUOTE_ANY = [S.QUOTE_MENTION, ...S.QUOTE_FALLBACK].join(', ');
const MEDIA_ANY = [...S.DELETED, ...S.VOICE, ...S.IMAGE].join(', ');

/** Quoted-reply containers in a bubble; everything inside them belongs to another message. */
function quotesIn(bubble) {
  const found = bubble.querySelectorAll(QUOTE_ANY);
  if (!found.length) return [];
  const quotes = new Set();
  for (const el of found) {
    if (el.matches(S.QUOTE_MENTION)) {
      const button = el.closest(S.QUOTE_BUTTON);
      if (button && bubble.contains(button)) quotes.add(button);
    }
    if (S.QUOTE_FALLBACK.some((sel) => el.matches(sel))) quotes.add(el);
  }
  return [...quotes];
}

const inside = (el, containers) => containers.some((c) => c.contains(el));

/** The first match, outside quotes, of the first selector (of a primary/fallback list) that has one. */
function firstOutside(root, selectors, quotes) {
  for (const sel of selectors) {
    if (!quotes.length) {
      const el = root.querySelector(sel);
      if (el) return el;
      continue;
    }
    for (const el of root.querySelectorAll(sel)) if (!inside(el, quotes)) return el;
  }
  return null;
}

/** The message's own text element: last span.selectable-text not in a quote nor nested in another. */
function textElement(bubble, quotes) {
  for (const sel of S.MESSAGE_TEXT) {
    const candidates = [...bubble.querySelectorAll(sel)].filter((el) => {
      if (inside(el, quotes)) return false;
      const outer = el.parentElement?.closest(sel);
      return !outer || !bubble.contains(outer);
    });
    if (candidates.length) return candidates[candidates.length - 1];
  }
  return null;
}

/** Visible time in the bubble meta (the last time-shaped span outside quote and text). */
function visibleTime(bubble, quotes, textEl) {
  const spans = [...bubble.querySelectorAll(S.META_TIME)].reverse();
  for (const span of spans) {
    if (inside(span, quotes) || (textEl && textEl.contains(span))) continue;
    const t = parseTime(plainText(span));
    if (t) return t;
  }
  return null;
}

function senderLabel(bubble, quotes) {
  const label = firstOutside(bubble, [S.SENDER_LABEL], quotes);
  const name = label?.getAttribute('aria-label').replace(/:\s*$/, '').trim();
  return name || null;
}

function kindOf(bubble, quotes) {
  // Most bubbles are plain text: one walk tells there is no media hook at all.
  if (!firstOutside(bubble, [MEDIA_ANY], quotes)) return null;
  if (firstOutside(bubble, S.DELETED, quotes)) return 'deleted';
  if (firstOutside(bubble, S.VOICE, quotes)) return 'audio';
  if (firstOutside(bubble, S.IMAGE, quotes)) return 'image';
  return null; // text or other, decided by the presence of text
}

const clean = (text) => {
  const t = text.trim();
  if (!t) return null;
  // Cut to the API limit without leaving half of a surrogate pair (an emoji) at the end.
  return t.length > MAX_TEXT ? t.slice(0, MAX_TEXT).replace(/[\ud800-\udbff]$/, '') : t;
};

/** A row with a data-id: a bubble (message) or, without one, a system notice. */
function readRow(idEl) {
  const rawId = idEl.getAttribute(S.MESSAGE_ID_ATTR);
  const parsed = parseDataId(rawId);
  const bubble = idEl.matches(S.BUBBLE) ? idEl : idEl.querySelector(S.BUBBLE);
  if (!bubble) {
    // System notices ("X added Y", encryption notice) have no bubble; hidden bits are icons.
    const text = clean(plainText(idEl, (el) => el.getAttribute('aria-hidden') === 'true'));
    return { id: rawId, parsed, system: true, text };
  }
  const quotes = quotesIn(bubble);
  const textEl = textElement(bubble, quotes);
  let direction;
  if (parsed.fromMe !== null) direction = parsed.fromMe ? 'out' : 'in';
  else direction = bubble.classList.contains(S.BUBBLE_OUT_CLASS) ? 'out' : 'in';
  const preEl = firstOutside(bubble, [S.PRE_PLAIN_TEXT], quotes);
  // Read on first use only: most rows have data-pre-plain-text, which gives time and author.
  let label;
  let metaTime;
  return {
    id: rawId,
    parsed,
    system: false,
    direction,
    pre: preEl ? splitPrePlainText(preEl.getAttribute(S.PRE_PLAIN_TEXT_ATTR)) : null,
    get label() {
      if (label === undefined) label = senderLabel(bubble, quotes);
      return label;
    },
    get metaTime() {
      if (metaTime === undefined) metaTime = visibleTime(bubble, quotes, textEl);
      return metaTime;
    },
    mediaKind: kindOf(bubble, quotes),
    text: textEl ? clean(plainText(textEl)) : null,
  };
}

function chatTitle(document) {
  const span = document.querySelector(S.CHAT_TITLE[0]);
  const text = span ? plainText(span).trim() : '';
  if (text) return text;
  const titled = document.querySelector(S.CHAT_TITLE[1]);
  if (titled?.getAttribute('title')?.trim()) return titled.getAttribute('title').trim();
  // Last resort (no header): the selected row of the chat list.
  const active = document.querySelector(S.CHAT_LIST_ACTIVE);
  const name = active && first(active, S.CHAT_LIST_NAME);
  return (name?.getAttribute('title') || (name ? plainText(name) : '')).trim() || null;
}

function pageLanguage(document) {
  return document.documentElement?.getAttribute('lang') || document.defaultView?.navigator?.language || '';
}

/**
 * @param {Document} document the WhatsApp Web document
 * @param {{now?: Date}} [options] `now` resolves relative dividers (TODAY, ONTEM, weekdays)
 * @returns {{chat: {id: string|null, title: string|null, is_group: boolean, phone: string|null},
 *            messages: Array<{id: string, direction: 'in'|'out', author: string|null,
 *            timestamp: string|null, text: string|null, kind: string}>} | null}
 *          null when no chat is open
 */
export function readActiveChat(document, { now = new Date() } = {}) {
  const container = findContainer(document);
  if (!container) return null;
  const rows = collectRows(container)
    .map((r) => (r.idEl ? readRow(r.idEl) : { divider: true, date: plainText(r.divider).trim() }));
  const title = chatTitle(document);

  const dateTexts = [];
  for (const r of rows) {
    if (r.divider) dateTexts.push(r.date);
    else if (r.pre?.date) dateTexts.push(r.pre.date);
  }
  const order = inferDateOrder(dateTexts, pageLanguage(document));

  const reads = rows.filter((r) => !r.divider);
  const chatJid = reads.find((r) => r.parsed.chatJid)?.parsed.chatJid ?? null;
  // Own account name, for outgoing rows that lack data-pre-plain-text.
  const ownName = reads.find((r) => !r.system && r.direction === 'out' && r.pre?.author)?.pre.author ?? null;
  // Without a JID, a group shows itself by incoming authors other than the chat title.
  const isGroup = chatJid
    ? isGroupJid(chatJid)
    : reads.some((r) => !r.system && r.direction === 'in' && (r.pre?.author ?? r.label ?? title) !== title);

  const messages = [];
  let currentDate = null; // date context from the last divider or dated message
  for (const r of rows) {
    if (r.divider) {
      currentDate = parseDividerDate(r.date, order, now);
      continue;
    }
    if (r.system) {
      messages.push({ id: r.id, direction: 'in', author: null, timestamp: null, text: r.text, kind: 'system' });
      continue;
    }
    const preDate = r.pre?.date ? parseNumericDate(r.pre.date, order) : null;
    const preTime = r.pre?.time ? parseTime(r.pre.time) : null;
    if (preDate) currentDate = preDate;
    const timestamp = preDate && preTime
      ? formatTimestamp(preDate, preTime)
      : formatTimestamp(currentDate, preTime ?? r.metaTime);
    let author = r.pre?.author ?? null;
    if (!author) {
      if (r.direction === 'out') author = ownName;
      else author = r.label ?? (isGroup ? null : title);
    }
    const kind = r.mediaKind ?? (r.text ? 'text' : 'other');
    const text = kind === 'deleted' || kind === 'audio' ? null : r.text;
    messages.push({ id: r.id, direction: r.direction, author, timestamp, text, kind });
  }

  return {
    chat: {
      id: chatJid,
      title,
      is_group: isGroup,
      phone: isGroup ? null : phoneFromJid(chatJid),
    },
    messages: messages.slice(-MAX_MESSAGES),
  };
}
