// Reads the open chat and posts a capture (through the worker) when its signature — chat key
// plus ids/hashes of the last messages — changes. Typing in the compose box and our own UI
// do not count as changes.

import { readActiveChat } from '../whatsapp/scrape.js';
import { createChangeDetector } from '../whatsapp/signature.js';
import { debounce, ext } from '../runtime.js';

export const name = 'capture';
const WAIT_MS = 400;

// One detector for the whole tab: switching A → B → A posts A again (the server answers
// "unchanged" and says which conversation it is), re-rendering A does not.
const detector = createChangeDetector();

const chatKey = (chat) => (chat?.id ? `id:${chat.id}` : `title:${chat?.title ?? ''}`);

function client() {
  return {
    extension_version: ext.runtime.getManifest().version,
    locale: globalThis.navigator?.language ?? null,
    tz_offset_minutes: -new Date().getTimezoneOffset(),
  };
}

/** Tells the worker (and so the panel) which chat is open now, before any capture. */
export function chatSwitched({ document, main, ask }) {
  let chat = null;
  if (main) {
    const read = readActiveChat(document);
    if (read?.chat) chat = { key: chatKey(read.chat), title: read.chat.title };
  }
  ask('content.chat', { chat }).catch(() => {});
}

export function init({ signal, main, document, ask }) {
  let sending = false;
  let again = false;

  async function post() {
    if (signal.aborted) return;
    if (sending) {
      again = true;
      return;
    }
    const read = readActiveChat(document);
    if (!read || !detector.changed(read)) return;
    sending = true;
    try {
      const capture = { ...read, captured_at: new Date().toISOString(), client: client() };
      const answer = await ask('content.capture', { capture, chatKey: chatKey(read.chat) });
      if (answer?.delivery === 'rejected') console.warn('[Conversa] capture rejected:', answer.error?.message);
    } catch (err) {
      // The worker did not take it (reloaded extension…): forget the signature to try again.
      detector.reset();
      console.warn('[Conversa] capture not sent:', err?.message ?? err);
    } finally {
      sending = false;
      if (again && !signal.aborted) {
        again = false;
        later();
      }
    }
  }

  const later = debounce(post, WAIT_MS);
  const footer = () => main.querySelector('footer');
  const relevant = (record) => {
    const f = footer();
    return !(f && (f === record.target || f.contains(record.target)));
  };
  const observer = new MutationObserver((records) => {
    if (records.some(relevant)) later();
  });
  observer.observe(main, { childList: true, subtree: true, characterData: true });
  signal.addEventListener('abort', () => {
    observer.disconnect();
    later.cancel();
  });
  later();
}
