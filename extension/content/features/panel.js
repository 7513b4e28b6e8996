// The side panel on WhatsApp: a host element with a closed shadow root holding a toggle
// button and an <iframe> of the extension's panel page (so WhatsApp's CSS and scripts cannot
// reach the panel's DOM). The open/closed state is remembered by the worker.
// Also hosts the quick-reply menu (see quick-replies.js). DOM built with createElement and
// textContent only.

import { ext, message } from '../runtime.js';

export const name = 'panel';
const HOST_ID = 'conversa-root';
const WIDTH = 360;

const CSS = `
:host { all: initial; }
.wrap { position: fixed; top: 0; right: 0; height: 100vh; display: flex; align-items: center;
  pointer-events: none; z-index: 2147483000; font: 13px/1.4 system-ui, sans-serif; }
.toggle { pointer-events: auto; writing-mode: vertical-rl; border: 0; cursor: pointer;
  background: #128c7e; color: #fff; padding: 12px 6px; border-radius: 8px 0 0 8px;
  font: 600 12px system-ui, sans-serif; letter-spacing: .05em; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
.toggle:focus-visible { outline: 2px solid #25d366; outline-offset: 2px; }
iframe { pointer-events: auto; width: ${WIDTH}px; height: 100vh; border: 0; border-left: 1px solid #d1d7db;
  background: #fff; color-scheme: light; }
.closed iframe { display: none; }
.qr { position: fixed; pointer-events: auto; background: #fff; color: #111b21; border: 1px solid #d1d7db;
  border-radius: 8px; box-shadow: 0 4px 16px rgba(0,0,0,.2); max-width: 420px; min-width: 240px;
  max-height: 260px; overflow: auto; padding: 4px 0; z-index: 2147483001; }
.qr[hidden] { display: none; }
.qr-title { padding: 4px 12px; color: #667781; font-size: 11px; text-transform: uppercase; }
.qr-item { display: block; width: 100%; text-align: left; border: 0; background: none; padding: 6px 12px;
  cursor: pointer; font: inherit; color: inherit; }
.qr-item:hover, .qr-item[aria-selected="true"] { background: #f0f2f5; }
.qr-short { font-weight: 600; color: #128c7e; margin-right: 6px; }
.qr-text { color: #3b4a54; white-space: pre-wrap; }
`;

function applyStyles(shadow, document) {
  try {
    const sheet = new document.defaultView.CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    return;
  } catch {
    // Firefox content scripts cannot always adopt sheets: fall back to a <style> element.
  }
  const style = document.createElement('style');
  style.textContent = CSS;
  shadow.append(style);
}

/**
 * @returns {{contains(node): boolean, setOpen(open, opts?): void, isOpen(): boolean,
 *            layer: ShadowRoot, host: HTMLElement}}
 */
export function init({ signal, document, ask, open = true }) {
  document.getElementById(HOST_ID)?.remove(); // a previous copy, orphaned by an extension update
  const host = document.createElement('div');
  host.id = HOST_ID;
  const shadow = host.attachShadow({ mode: 'closed' });
  applyStyles(shadow, document);

  const wrap = document.createElement('div');
  wrap.className = 'wrap';
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'toggle';
  toggle.textContent = message('extName');
  const frame = document.createElement('iframe');
  frame.src = ext.runtime.getURL('panel/panel.html');
  frame.title = message('panelFrameTitle');
  frame.setAttribute('allow', '');
  wrap.append(toggle, frame);
  shadow.append(wrap);

  let isOpen = open;
  function setOpen(value, { remember = true } = {}) {
    isOpen = Boolean(value);
    wrap.classList.toggle('closed', !isOpen);
    toggle.setAttribute('aria-expanded', String(isOpen));
    const label = message(isOpen ? 'panelHide' : 'panelShow');
    toggle.title = label;
    toggle.setAttribute('aria-label', label);
    if (remember) ask('content.setPanelOpen', { open: isOpen }).catch(() => {});
  }
  toggle.addEventListener('click', () => setOpen(!isOpen), { signal });
  setOpen(isOpen, { remember: false });

  (document.body ?? document.documentElement).append(host);
  signal.addEventListener('abort', () => host.remove());

  return {
    host,
    layer: shadow,
    contains: (node) => node === host || host.contains(node),
    setOpen,
    isOpen: () => isOpen,
  };
}
