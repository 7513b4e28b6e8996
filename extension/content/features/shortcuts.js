// Keyboard shortcuts pressed on WhatsApp's page (Alt+1..3, Alt+R, Alt+F): handed to the side
// panel through the worker, which carries them out (the same shortcuts work inside the panel).

import { shortcutOf } from '../../shared/keyboard.js';

export const name = 'shortcuts';

export function init({ signal, document, ask }) {
  document.addEventListener('keydown', (event) => {
    const shortcut = shortcutOf(event);
    if (!shortcut) return;
    event.preventDefault();
    event.stopPropagation();
    ask('content.shortcut', shortcut).catch(() => {});
  }, { capture: true, signal });
}
