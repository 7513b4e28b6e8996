// Entry of the content script on web.whatsapp.com. Global pieces (the side panel and the
// draft inserter) start once; per-chat features start on each chat and are cleaned up on
// a chat switch (see lifecycle.js).

import { ask, alive } from './runtime.js';
import { watchChats } from './lifecycle.js';
import * as panel from './features/panel.js';
import * as drafts from './features/drafts.js';
import * as capture from './features/capture.js';
import * as quickReplies from './features/quick-replies.js';
import * as openChat from './features/open-chat.js';
import * as shortcuts from './features/shortcuts.js';

const CHAT_FEATURES = [capture, quickReplies];

export async function start(document = globalThis.document) {
  const life = new AbortController();
  let hello = { panelOpen: true };
  try {
    hello = await ask('content.hello');
  } catch (err) {
    console.warn('[Conversa] worker unavailable:', err?.message ?? err);
  }
  const ui = panel.init({ signal: life.signal, document, ask, open: hello.panelOpen });
  drafts.init({ signal: life.signal, document, ui });
  openChat.init({ signal: life.signal, document });
  shortcuts.init({ signal: life.signal, document, ask });

  const stop = watchChats({
    document,
    features: CHAT_FEATURES,
    context: { ask, ui },
    isOwnNode: ui.contains,
    onSwitch: (main) => capture.chatSwitched({ document, main, ask }),
  });
  life.signal.addEventListener('abort', stop);

  // After an extension update this script is orphaned: stop quietly, the new one takes over.
  const orphanCheck = setInterval(() => {
    if (alive()) return;
    clearInterval(orphanCheck);
    life.abort();
  }, 5000);
}
