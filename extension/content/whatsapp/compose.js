// Puts a suggested reply into WhatsApp's compose box as a draft. The user sends it: this
// module never dispatches Enter (or any key) and never clicks the send button.
//
// WhatsApp's box is a Lexical editor: writing to the DOM directly desyncs its model, so the
// text goes through the browser's editing pipeline (execCommand → beforeinput, which Lexical
// handles), and if Lexical did not take it, through a synthetic paste, which Lexical also
// handles (it reads clipboardData's text/plain, splitting lines into paragraphs).

import { COMPOSE_BOX } from './selectors.js';
import { plainText } from './plain-text.js';

/** The compose box of the open chat (scoped to `#main footer`), or null. */
export function findComposeBox(document) {
  for (const sel of COMPOSE_BOX) {
    const box = document.querySelector(sel);
    if (box) return box;
  }
  return null;
}

// Lexical renders each line as its own paragraph, so newlines do not survive in the DOM text:
// compare without any whitespace.
const squash = (s) => String(s ?? '').replace(/\s+/gu, '');

function occurrences(haystack, needle) {
  if (!needle) return 0;
  let n = 0;
  for (let i = haystack.indexOf(needle); i !== -1; i = haystack.indexOf(needle, i + needle.length)) n += 1;
  return n;
}

/** Text of the box as the user sees it (emoji images count as their character). */
const boxText = (box) => squash(plainText(box));

/** One animation frame; bounded by a timeout because frames stop in hidden tabs. */
function nextFrame(win) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 100);
    if (typeof win?.requestAnimationFrame === 'function') {
      win.requestAnimationFrame(() => {
        clearTimeout(timer);
        resolve();
      });
    }
  });
}

/** Focus the box with the caret at its end, so an existing draft is kept, not overwritten. */
function focusAtEnd(document, box) {
  box.focus({ preventScroll: true });
  const selection = document.getSelection?.();
  if (!selection) return;
  const range = document.createRange();
  range.selectNodeContents(box);
  range.collapse(false);
  selection.removeAllRanges();
  selection.addRange(range);
}

function tryExecCommand(document, text) {
  try {
    return document.execCommand('insertText', false, text) === true;
  } catch {
    return false;
  }
}

function tryPaste(document, box, text) {
  const win = document.defaultView;
  try {
    const data = new win.DataTransfer();
    data.setData('text/plain', text);
    const event = new win.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
    // Some engines ignore clipboardData in the constructor; expose it the way handlers read it.
    if (!event.clipboardData) Object.defineProperty(event, 'clipboardData', { value: data });
    box.dispatchEvent(event);
    return true;
  } catch {
    return false;
  }
}

/**
 * Inserts `text` (may be multi-line) at the end of the compose box.
 * @returns {Promise<{ok: boolean, method: 'execCommand'|'paste'|null}>}
 *   ok is true only once the box is seen to hold one more copy of the text than before.
 */
export async function insertDraft(document, text) {
  const box = findComposeBox(document);
  const wanted = squash(text);
  if (!box || !wanted) return { ok: false, method: null };
  const win = document.defaultView;
  const before = occurrences(boxText(box), wanted);
  const landed = () => occurrences(boxText(box), wanted) > before;

  focusAtEnd(document, box);
  tryExecCommand(document, text);
  await nextFrame(win);
  if (landed()) return { ok: true, method: 'execCommand' };

  focusAtEnd(document, box);
  if (!tryPaste(document, box, text)) return { ok: false, method: 'paste' };
  await nextFrame(win);
  return { ok: landed(), method: 'paste' };
}
