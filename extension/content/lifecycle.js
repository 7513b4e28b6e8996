// Chat switches. WhatsApp replaces `#main` (the URL stays the same) when the user opens
// another chat, so one debounced MutationObserver on <body> watches for a new `#main`:
// every per-chat feature is then torn down (its AbortSignal fires) and started again on the
// new chat, refined-github style: `feature.init({signal, main, document, ...})`.
// Mutations inside our own UI (the panel's host element) are ignored.

import { CHAT_CONTAINER } from './whatsapp/selectors.js';
import { debounce } from './runtime.js';

export function findChat(document) {
  for (const sel of CHAT_CONTAINER) {
    const el = document.querySelector(sel);
    if (el) return el;
  }
  return null;
}

/**
 * @param {object} options
 * @param {Document} options.document
 * @param {Array<{name: string, init: Function}>} options.features per-chat features
 * @param {object} options.context extra fields passed to each init (ask, ui…)
 * @param {(node: Node) => boolean} options.isOwnNode true for nodes of our own UI
 * @param {(main: Element|null) => void} [options.onSwitch] called before features start
 * @param {number} [options.wait] debounce in ms
 * @returns {() => void} stops watching and cleans every feature up
 */
export function watchChats({ document, features, context = {}, isOwnNode = () => false, onSwitch = () => {}, wait = 150 }) {
  let current = null;
  let controller = null;

  function check() {
    const main = findChat(document);
    if (main === current) return;
    controller?.abort();
    controller = null;
    current = main;
    onSwitch(main);
    if (!main) return;
    controller = new AbortController();
    for (const feature of features) {
      try {
        feature.init({ ...context, signal: controller.signal, main, document });
      } catch (err) {
        console.warn(`[Conversa] feature ${feature.name} failed to start:`, err);
      }
    }
  }

  const later = debounce(check, wait);
  const ours = (record) => {
    if (isOwnNode(record.target)) return true;
    const nodes = [...record.addedNodes, ...record.removedNodes];
    return nodes.length > 0 && nodes.every(isOwnNode);
  };
  const observer = new MutationObserver((records) => {
    if (records.every(ours)) return;
    later();
  });
  observer.observe(document.body ?? document.documentElement, { childList: true, subtree: true });
  check();

  return () => {
    observer.disconnect();
    later.cancel();
    controller?.abort();
    controller = null;
    current = null;
  };
}
