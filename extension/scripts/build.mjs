// Builds both browser packages from the same sources, without a bundler:
//   dist/chromium/ + dist/conversa-chromium.zip  (manifest as is: service worker, pinned key)
//   dist/firefox/  + dist/conversa-firefox.zip   (background.scripts, gecko id, no key)
// Only the files the extension runs are copied (no tests, node_modules or dev files).
// The zip writer is here too (stored + deflate via node:zlib), so nothing else is needed.

import { readFileSync, writeFileSync, mkdirSync, rmSync, readdirSync, statSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
/** What ships. Everything else in extension/ is development material. */
export const SHIPPED = ['manifest.json', '_locales', 'background', 'content', 'panel', 'popup', 'options', 'shared', 'icons'];
export const GECKO_ID = 'conversa@conversa.app';

function walk(path) {
  const st = statSync(path);
  if (st.isFile()) return [path];
  return readdirSync(path).sort().flatMap((name) => walk(join(path, name)));
}

export function sourceFiles(root = ROOT) {
  return SHIPPED.flatMap((entry) => walk(join(root, entry)))
    .map((file) => relative(root, file).split(sep).join('/'))
    .filter((file) => !/(^|\/)\./.test(file) && !file.endsWith('.map'));
}

export function firefoxManifest(manifest) {
  const m = structuredClone(manifest);
  delete m.key; // the Chromium id pin; Firefox uses the gecko id
  delete m.minimum_chrome_version;
  m.background = { scripts: [manifest.background.service_worker], type: 'module' };
  m.browser_specific_settings = {
    gecko: {
      id: GECKO_ID,
      strict_min_version: '140.0',
      data_collection_permissions: { required: ['none'] },
    },
    gecko_android: { strict_min_version: '142.0' },
  };
  return m;
}

// ---- a small zip writer -------------------------------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** entries: [{name, data: Buffer}] → a zip archive (fixed 1980-01-01 dates: reproducible). */
export function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBuf = Buffer.from(name, 'utf8');
    const deflated = deflateRawSync(data, { level: 9 });
    const useDeflate = deflated.length < data.length;
    const body = useDeflate ? deflated : data;
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(useDeflate ? 8 : 0, 8);
    local.writeUInt16LE(0, 10);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(useDeflate ? 8 : 0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(0, 30); // extra, comment lengths
    central.writeUInt32LE(0, 34); // disk, internal attrs
    central.writeUInt32LE(0, 38); // external attrs
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += local.length + nameBuf.length + body.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}

// ---- build ---------------------------------------------------------------------------------------
export function build({ root = ROOT, dist = DIST, log = console.log } = {}) {
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8'));
  const files = sourceFiles(root).filter((f) => f !== 'manifest.json');
  const targets = { chromium: manifest, firefox: firefoxManifest(manifest) };
  rmSync(dist, { recursive: true, force: true });
  const out = {};
  for (const [target, m] of Object.entries(targets)) {
    const dir = join(dist, target);
    const manifestBuf = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
    const entries = [{ name: 'manifest.json', data: manifestBuf }];
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), manifestBuf);
    for (const file of files) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      copyFileSync(join(root, file), join(dir, file));
      entries.push({ name: file, data: readFileSync(join(root, file)) });
    }
    const zipPath = join(dist, `conversa-${target}.zip`);
    writeFileSync(zipPath, zip(entries));
    out[target] = { dir, zip: zipPath, files: entries.length };
    log(`${target}: ${entries.length} files → ${relative(root, zipPath)}`);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) build();
