// Puts a suggestion into the compose box when the side panel asks (through the worker).
// It only ever writes a draft: never Enter, never a click on send.

import { insertDraft } from '../whatsapp/compose.js';
import { ext } from '../runtime.js';

export const name = 'drafts';

export function init({ signal, document, ui }) {
  const listener = (msg, sender, sendResponse) => {
    if (sender?.id !== ext.runtime.id) return false;
    if (msg?.type === 'content.insertDraft') {
      insertDraft(document, String(msg.text ?? ''))
        .then((result) => sendResponse(result))
        .catch((err) => sendResponse({ ok: false, method: null, error: String(err?.message ?? err) }));
      return true;
    }
    if (msg?.type === 'content.setPanelOpen') {
      ui.setOpen(Boolean(msg.open), { remember: false });
      sendResponse({ ok: true });
      return false;
    }
    return false;
  };
  ext.runtime.onMessage.addListener(listener);
  signal.addEventListener('abort', () => ext.runtime.onMessage.removeListener(listener));
}
