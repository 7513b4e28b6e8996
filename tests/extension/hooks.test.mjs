// Guards on the extension's WhatsApp layer: stable hooks only, and no HTML sinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as selectors from '../../extension/content/whatsapp/selectors.js';

const DIR = new URL('../../extension/content/whatsapp/', import.meta.url);
// Build-output class names such as _amjv, _ao3e, x78zum5, x1n2onr6.
const OBFUSCATED = /\.(_a[a-z0-9]{2,3}|x[0-9a-z]{5,8})(?![\w-])/;

test('selectors: no obfuscated classes anywhere, data-testid never primary', () => {
  for (const [name, value] of Object.entries(selectors)) {
    const list = Array.isArray(value) ? value : [value];
    for (const sel of list) assert.doesNotMatch(sel, OBFUSCATED, `${name}: ${sel}`);
    assert.doesNotMatch(list[0], /data-testid/, `${name} primary uses data-testid`);
  }
});

test('selectors: the compose box is always scoped to #main footer', () => {
  for (const sel of selectors.COMPOSE_BOX) assert.match(sel, /^#main footer /);
});

test('WhatsApp modules never write HTML (no innerHTML/outerHTML/insertAdjacentHTML)', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(new URL(file, DIR), 'utf8');
    assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/, file);
  }
});

test('compose never sends: no Enter, no keyboard events, no clicks in its source', () => {
  const src = readFileSync(new URL('compose.js', DIR), 'utf8').replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(src, /KeyboardEvent|['"]Enter['"]|keyCode|\.click\(|['"]click['"]|submit/);
});
