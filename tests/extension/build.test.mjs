// npm run build: both packages from the same sources; Firefox gets background.scripts and a
// gecko id, Chromium the service worker and the pinned key; no dev files ship.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { build, firefoxManifest, GECKO_ID } from '../../extension/scripts/build.mjs';

/** Reads a zip (central directory) → Map(name → Buffer). */
function unzip(buf) {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = new Map();
  for (let i = 0; i < count; i += 1) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const body = buf.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(body) : body);
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

test('build writes both zips with the right manifests and only shipped files', () => {
  const dist = mkdtempSync(join(tmpdir(), 'conversa-dist-'));
  const out = build({ dist, log: () => {} });
  const source = JSON.parse(readFileSync(new URL('../../extension/manifest.json', import.meta.url), 'utf8'));
  for (const target of ['chromium', 'firefox']) {
    assert.ok(existsSync(out[target].zip));
    const files = unzip(readFileSync(out[target].zip));
    const m = JSON.parse(files.get('manifest.json'));
    assert.ok(files.has('background/service-worker.js'));
    assert.ok(files.has('content/whatsapp/scrape.js'));
    assert.ok(files.has('panel/panel.html'));
    assert.ok(files.has('_locales/pt_BR/messages.json'));
    assert.ok(![...files.keys()].some((f) => /node_modules|package(-lock)?\.json|README|scripts\/|tests?\//.test(f)), target);
    assert.deepEqual(files.get('content/loader.js'), readFileSync(new URL('../../extension/content/loader.js', import.meta.url)));
    assert.deepEqual(m.permissions, source.permissions);
    if (target === 'chromium') assert.deepEqual(m, source);
  }
  const ff = JSON.parse(unzip(readFileSync(out.firefox.zip)).get('manifest.json'));
  assert.deepEqual(ff.background, { scripts: ['background/service-worker.js'], type: 'module' });
  assert.equal(ff.browser_specific_settings.gecko.id, GECKO_ID);
  assert.equal(ff.key, undefined);
  assert.deepEqual(firefoxManifest(source).host_permissions, source.host_permissions);
});
