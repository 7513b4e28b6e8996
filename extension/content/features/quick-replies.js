// Quick replies: typing "/shortcut" in the compose box offers the team's matching replies;
// choosing one (click, or Tab for the first) replaces "/shortcut" with its text, where
// {nome} (or {name}) becomes the contact's first name. The text is only a draft: nothing is
// sent, and this feature never handles or dispatches Enter.

import { findComposeBox } from '../whatsapp/compose.js';
import { debounce, message } from '../runtime.js';

export const name = 'quick-replies';
const MAX_ITEMS = 6;
// The list is asked again after this long (the worker caches it for a minute too), so a reply
// an admin adds while a chat stays open shows up without switching chat.
const RELOAD_MS = 30_000;
// "/" at the start or after whitespace, then the shortcut typed so far, right before the caret.
const TRIGGER = /(?:^|\s)\/([\p{L}\p{N}_-]{0,32})$/u;

/** The contact's first name for {nome}. */
export const firstName = (name) => String(name ?? '').trim().split(/\s+/u)[0] ?? '';

/** Quick-reply text with its placeholders filled. */
export function fillTemplate(text, contactName) {
  const first = firstName(contactName);
  return String(text).replace(/\{\s*(nome|name|primeiro_nome)\s*\}/giu, first);
}

/** The "/query" right before a collapsed caret inside `box`: {node, start, end, query} or null. */
export function shortcutAtCaret(document, box) {
  const sel = document.getSelection?.();
  if (!sel || !sel.isCollapsed || !sel.anchorNode || !box.contains(sel.anchorNode)) return null;
  const node = sel.anchorNode;
  if (node.nodeType !== 3) return null;
  const before = node.data.slice(0, sel.anchorOffset);
  const m = TRIGGER.exec(before);
  if (!m) return null;
  const end = sel.anchorOffset;
  return { node, start: end - m[1].length - 1, end, query: m[1] };
}

/** Replaces the shortcut range with `text` through the editor's own input pipeline. */
export function replaceShortcut(document, box, at, text) {
  const range = document.createRange();
  range.setStart(at.node, at.start);
  range.setEnd(at.node, at.end);
  const sel = document.getSelection();
  box.focus({ preventScroll: true });
  sel.removeAllRanges();
  sel.addRange(range);
  let ok = false;
  try {
    ok = document.execCommand('insertText', false, text) === true;
  } catch {
    ok = false;
  }
  if (ok) return true;
  // Fallback: a synthetic paste over the selection (Lexical reads text/plain).
  try {
    const win = document.defaultView;
    const data = new win.DataTransfer();
    data.setData('text/plain', text);
    const event = new win.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    box.dispatchEvent(event);
    return true;
  } catch {
    return false;
  }
}

export function init({ signal, document, ask, ui }) {
  let items = null;
  let loadedAt = 0;
  let contactName = '';
  let current = null; // {at, matches}

  const menu = document.createElement('div');
  menu.className = 'qr';
  menu.hidden = true;
  menu.setAttribute('role', 'listbox');
  ui.layer.append(menu);
  signal.addEventListener('abort', () => menu.remove());

  const hide = () => {
    menu.hidden = true;
    current = null;
  };

  async function load() {
    loadedAt = Date.now();
    try {
      const answer = await ask('content.quickReplies');
      items = answer.items ?? [];
      contactName = answer.contactName ?? '';
    } catch {
      items ??= []; // not paired, server down…: keep what we had, ask again later
    }
  }

  function choose(item) {
    const box = findComposeBox(document);
    if (!box || !current) return hide();
    const at = shortcutAtCaret(document, box) ?? current.at;
    hide();
    replaceShortcut(document, box, at, fillTemplate(item.text, contactName));
  }

  function render(box, matches) {
    menu.replaceChildren();
    const title = document.createElement('div');
    title.className = 'qr-title';
    title.textContent = message('quickRepliesTitle');
    menu.append(title);
    matches.forEach((item, i) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'qr-item';
      button.setAttribute('role', 'option');
      button.setAttribute('aria-selected', String(i === 0));
      const short = document.createElement('span');
      short.className = 'qr-short';
      short.textContent = `/${item.shortcut}`;
      const text = document.createElement('span');
      text.className = 'qr-text';
      text.textContent = fillTemplate(item.text, contactName);
      button.append(short, text);
      // Keep the caret in the compose box: the choice is made on click, focus never moves.
      button.addEventListener('mousedown', (e) => e.preventDefault());
      button.addEventListener('click', () => choose(item));
      menu.append(button);
    });
    const r = box.getBoundingClientRect();
    menu.style.left = `${Math.max(8, r.left)}px`;
    menu.style.bottom = `${Math.max(8, document.documentElement.clientHeight - r.top + 8)}px`;
    menu.hidden = false;
  }

  const check = debounce(async () => {
    if (signal.aborted) return;
    const box = findComposeBox(document);
    const at = box && shortcutAtCaret(document, box);
    if (!at) return hide();
    if (items === null || Date.now() - loadedAt > RELOAD_MS) await load();
    const q = at.query.toLowerCase();
    const matches = items.filter((it) => it.shortcut.toLowerCase().startsWith(q)).slice(0, MAX_ITEMS);
    if (!matches.length) return hide();
    current = { at, matches };
    render(box, matches);
  }, 80);

  const inBox = (target) => {
    const box = findComposeBox(document);
    return Boolean(box && target && box.contains(target));
  };
  document.addEventListener('input', (e) => { if (inBox(e.target)) check(); }, { capture: true, signal });
  document.addEventListener('keyup', (e) => {
    if (inBox(e.target) && e.key !== 'Escape' && e.key !== 'Tab') check();
  }, { capture: true, signal });
  document.addEventListener('keydown', (e) => {
    if (menu.hidden || !inBox(e.target)) return;
    if (e.key === 'Escape') {
      e.preventDefault();
      hide();
    } else if (e.key === 'Tab' && current) {
      e.preventDefault();
      choose(current.matches[0]);
    }
  }, { capture: true, signal });
  document.addEventListener('mousedown', (e) => {
    if (!ui.contains(e.target)) hide();
  }, { capture: true, signal });
  signal.addEventListener('abort', () => check.cancel());
}
