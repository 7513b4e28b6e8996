// DOM → plain text the way WhatsApp's own "copy" would give it: emoji images become their
// character (textContent alone drops them), <br> becomes "\n", icons are ignored.

import { EMOJI, EMOJI_TEXT_ATTRS } from './selectors.js';

const ELEMENT = 1;
const TEXT = 3;
// Icon markup carries <title> text ("tail-in", "msg-dblcheck") that is not message text.
const NEVER_TEXT = new Set(['svg', 'script', 'style', 'template', 'button', 'input']);

function emojiText(img) {
  if (!EMOJI.some((sel) => img.matches(sel))) return '';
  for (const attr of EMOJI_TEXT_ATTRS) {
    const v = img.getAttribute(attr);
    if (v) return v;
  }
  return '';
}

/**
 * Plain text of a node. `skip(element)` returning true leaves that subtree out
 * (quotes, aria-hidden time spacers…). Whitespace is kept as is: callers trim.
 */
export function plainText(node, skip = () => false) {
  if (!node) return '';
  if (node.nodeType === TEXT) return node.nodeValue;
  if (node.nodeType !== ELEMENT) return '';
  const tag = node.localName;
  if (NEVER_TEXT.has(tag) || skip(node)) return '';
  if (tag === 'img') return emojiText(node);
  if (tag === 'br') return '\n';
  let out = '';
  for (const child of node.childNodes) out += plainText(child, skip);
  return out;
}
