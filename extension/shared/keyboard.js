// The panel's keyboard shortcuts, read from a keydown event (pure, unit-tested). Physical keys
// (event.code) so a layout or Alt producing another character (macOS "¡") still matches; AltGr
// (reported as Ctrl+Alt on Windows) and any Ctrl/Meta chord are left to the page.

export const SHORTCUTS = [
  { keys: 'Alt+1', action: 'insert', index: 0, help: 'shortcutInsert1' },
  { keys: 'Alt+2', action: 'insert', index: 1, help: 'shortcutInsert2' },
  { keys: 'Alt+3', action: 'insert', index: 2, help: 'shortcutInsert3' },
  { keys: 'Alt+R', action: 'resolve', help: 'shortcutResolve' },
  { keys: 'Alt+F', action: 'queue', help: 'shortcutQueue' },
];

const BY_CODE = {
  Digit1: 0, Digit2: 1, Digit3: 2, Numpad1: 0, Numpad2: 1, Numpad3: 2,
};

/** {action: 'insert', index} | {action: 'resolve'} | {action: 'queue'} | null. */
export function shortcutOf(event) {
  if (!event || !event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) return null;
  if (event.isComposing) return null;
  const code = event.code ?? '';
  if (code in BY_CODE) return { action: 'insert', index: BY_CODE[code] };
  if (code === 'KeyR') return { action: 'resolve' };
  if (code === 'KeyF') return { action: 'queue' };
  return null;
}
