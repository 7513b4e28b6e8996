// Opens a chat of the queue in WhatsApp Web by its title, as an attendant would: the row in the
// chat list if it is there, else the title typed into the list's search box and the matching row
// then. It only ever opens a chat (a mousedown on its row, which is what WhatsApp listens to):
// never a key press, never a click on anything, never a message.

import { CHAT_LIST_ROW, CHAT_LIST_NAME, CHAT_LIST_CELL, SEARCH_BOX } from '../whatsapp/selectors.js';
import { ext } from '../runtime.js';

export const name = 'open-chat';

const norm = (s) => String(s ?? '').normalize('NFC').replace(/\s+/g, ' ').trim().toLocaleLowerCase();

function first(root, selectors) {
  for (const sel of selectors) {
    const el = root.querySelector(sel);
    if (el) return el;
  }
  return null;
}

function rowName(row) {
  for (const sel of CHAT_LIST_NAME) {
    const el = row.querySelector(sel);
    if (el) return el.getAttribute('title') || el.textContent;
  }
  return null;
}

/** The chat-list row whose name is `title` (spacing and case aside), or null. */
export function findChatRow(document, title) {
  const want = norm(title);
  if (!want) return null;
  for (const sel of CHAT_LIST_ROW) {
    for (const row of document.querySelectorAll(sel)) {
      if (norm(rowName(row)) === want) return row;
    }
  }
  return null;
}

function typeSearch(document, box, text) {
  box.focus();
  if ('value' in box && box.tagName === 'INPUT') {
    box.select();
    if (!document.execCommand?.('insertText', false, text)) {
      box.value = text;
      box.dispatchEvent(new document.defaultView.InputEvent('input', { bubbles: true, data: text, inputType: 'insertText' }));
    }
    return;
  }
  document.execCommand?.('selectAll', false);
  document.execCommand?.('insertText', false, text);
}

function press(document, row) {
  const cell = row.querySelector(CHAT_LIST_CELL) ?? row;
  const init = { bubbles: true, cancelable: true, view: document.defaultView, button: 0 };
  cell.dispatchEvent(new document.defaultView.MouseEvent('mousedown', init));
  cell.dispatchEvent(new document.defaultView.MouseEvent('mouseup', init));
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** {ok: true, searched} when the chat's row was found and pressed; {ok: false, reason: 'not_found'}. */
export async function openChat(document, title, { wait = 2000, step = 100 } = {}) {
  let row = findChatRow(document, title);
  let searched = false;
  if (!row) {
    const box = first(document, SEARCH_BOX);
    if (box) {
      searched = true;
      typeSearch(document, box, String(title));
      for (let waited = 0; !row && waited < wait; waited += step) {
        await pause(step);
        row = findChatRow(document, title);
      }
    }
  }
  if (!row) return { ok: false, reason: 'not_found', searched };
  press(document, row);
  return { ok: true, searched };
}

export function init({ signal, document }) {
  const listener = (msg, sender, sendResponse) => {
    if (sender?.id !== ext.runtime.id || msg?.type !== 'content.openChat') return false;
    openChat(document, String(msg.title ?? ''))
      .then(sendResponse)
      .catch((err) => sendResponse({ ok: false, reason: 'error', message: String(err?.message ?? err) }));
    return true;
  };
  ext.runtime.onMessage.addListener(listener);
  signal.addEventListener('abort', () => ext.runtime.onMessage.removeListener(listener));
}
