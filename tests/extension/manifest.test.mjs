// The manifest and the extension's source rules: exact permissions, strict CSP, no remote
// code, no HTML sinks, content scripts never fetch nor read storage, every UI string localized.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXT = fileURLToPath(new URL('../../extension/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(EXT, 'manifest.json'), 'utf8'));
const SHIPPED = ['background', 'content', 'panel', 'popup', 'options', 'shared'];

function files(dir, ext) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}
const sources = (ext) => SHIPPED.flatMap((d) => files(join(EXT, d), ext));
const read = (p) => readFileSync(p, 'utf8');
const strip = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');

test('permissions are exactly these (a change here is a deliberate, reviewed change)', () => {
  assert.equal(manifest.manifest_version, 3);
  // alarms + notifications: follow-ups ring at their time with the panel closed (issue 14).
  assert.deepEqual(manifest.permissions, ['storage', 'alarms', 'notifications']);
  assert.deepEqual(manifest.host_permissions, ['http://127.0.0.1/*', 'https://web.whatsapp.com/*']);
  assert.deepEqual(manifest.optional_host_permissions, ['https://*/*']);
  assert.equal(manifest.optional_permissions, undefined);
  assert.deepEqual(manifest.content_scripts.map((c) => c.matches), [['https://web.whatsapp.com/*']]);
  assert.deepEqual(manifest.web_accessible_resources.map((w) => w.matches), [['https://web.whatsapp.com/*']]);
  assert.ok(manifest.web_accessible_resources[0].resources.includes('panel/*'));
  assert.equal(manifest.externally_connectable, undefined);
});

test('strict CSP, module service worker, pinned key, pt_BR default locale', () => {
  assert.equal(manifest.content_security_policy.extension_pages, "script-src 'self'; object-src 'self'");
  assert.deepEqual(manifest.background, { service_worker: 'background/service-worker.js', type: 'module' });
  assert.match(manifest.key, /^MIIB[A-Za-z0-9+/=]+$/);
  assert.equal(manifest.default_locale, 'pt_BR');
  assert.match(manifest.name, /^__MSG_\w+__$/);
  assert.match(manifest.description, /^__MSG_\w+__$/);
});

test('no remote code: no eval/Function, scripts only from the package, no http(s) imports', () => {
  for (const p of sources('.js')) {
    const src = strip(read(p));
    assert.doesNotMatch(src, /\beval\s*\(|new\s+Function\s*\(|setTimeout\s*\(\s*['"`]/, p);
    assert.doesNotMatch(src, /import\s*\(?\s*['"`]https?:/, p);
  }
  for (const p of sources('.html')) {
    const html = read(p);
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, `${p}: inline script`);
    assert.doesNotMatch(html, /<script[^>]*src=["']https?:/, `${p}: remote script`);
    assert.doesNotMatch(html, /\son[a-z]+=/i, `${p}: inline handler`);
  }
});

test('no HTML sinks anywhere in the extension', () => {
  for (const p of sources('.js')) {
    assert.doesNotMatch(strip(read(p)), /innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment/, p);
  }
});

test('content scripts never fetch, never touch storage or tokens; only the worker fetches', () => {
  for (const p of files(join(EXT, 'content'), '.js')) {
    const src = strip(read(p));
    assert.doesNotMatch(src, /\bfetch\s*\(|XMLHttpRequest|WebSocket|EventSource|\.storage\b|access_token|refresh_token/, p);
  }
  const fetchers = sources('.js').filter((p) => /\bfetch\s*\(/.test(strip(read(p))));
  const allowed = fetchers.every((p) => /background[/\\]|shared[/\\]i18n\.js$/.test(p));
  assert.ok(allowed, `fetch outside the worker: ${fetchers.join(', ')}`);
});

test('nothing in the extension sends a WhatsApp message: no synthetic Enter, no clicks', () => {
  for (const p of files(join(EXT, 'content'), '.js')) {
    const src = strip(read(p));
    assert.doesNotMatch(src, /new\s+KeyboardEvent|keyCode\s*[:=]|\.click\(\)|\.submit\(\)|requestSubmit/, p);
    assert.doesNotMatch(src, /dispatchEvent\([^)]*(key|click|submit)/i, p);
  }
});

const locales = Object.fromEntries(['pt_BR', 'en'].map((l) => [l, JSON.parse(read(join(EXT, '_locales', l, 'messages.json')))]));

test('both locales have the same keys and placeholders', () => {
  assert.deepEqual(Object.keys(locales.en).sort(), Object.keys(locales.pt_BR).sort());
  for (const key of Object.keys(locales.en)) {
    assert.deepEqual(Object.keys(locales.en[key].placeholders ?? {}), Object.keys(locales.pt_BR[key].placeholders ?? {}), key);
  }
});

test('every UI string used exists in the locales', () => {
  const used = new Set(['extName', 'extDescription']);
  for (const p of sources('.html')) {
    for (const m of read(p).matchAll(/data-i18n(?:-[a-z-]+)?="([A-Za-z_]+)"/g)) used.add(m[1]);
  }
  for (const p of sources('.js')) {
    for (const m of strip(read(p)).matchAll(/\b(?:t|message)\(\s*'([A-Za-z_]+)'/g)) used.add(m[1]);
  }
  for (const prefix of ['sentiment_', 'intent_', 'stage_', 'role_']) {
    assert.ok(Object.keys(locales.en).some((k) => k.startsWith(prefix)), prefix);
  }
  const missing = [...used].filter((k) => !(k in locales.en));
  assert.deepEqual(missing, []);
});

test('pages carry no hard-coded UI text: text nodes come from data-i18n', () => {
  for (const p of sources('.html')) {
    const body = read(p).split('<body')[1];
    const texts = [...body.matchAll(/>([^<>]+)</g)].map((m) => m[1].trim()).filter(Boolean);
    // Allowed: symbols, commands shown verbatim, language names (each in its own language).
    const ok = (s) => /^[×…\-\s]*$/.test(s) || /^conversa (serve|pair)$/.test(s) || /^(Português \(Brasil\)|English)$/.test(s);
    assert.deepEqual(texts.filter((s) => !ok(s)), [], p);
  }
});
