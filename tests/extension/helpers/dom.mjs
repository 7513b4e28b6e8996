// jsdom lives in extension/node_modules (the extension's dev tools), not next to the tests,
// so it is required relative to extension/package.json.
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(new URL('../../../extension/package.json', import.meta.url));
export const { JSDOM } = require('jsdom');

export const FIXTURE_DIR = fileURLToPath(new URL('../../fixtures/whatsapp/', import.meta.url));

/** A document for an HTML string, with requestAnimationFrame (pretendToBeVisual). */
export function documentFor(html) {
  return new JSDOM(html, { pretendToBeVisual: true }).window.document;
}

/** Every fixture page with a sibling .expected.json: [{name, html, expected}]. */
export function loadFixtures(dir = FIXTURE_DIR) {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.html'))
    .sort()
    .map((f) => {
      const expectedPath = path.join(dir, f.replace(/\.html$/, '.expected.json'));
      if (!existsSync(expectedPath)) return null;
      return {
        name: f,
        html: readFileSync(path.join(dir, f), 'utf8'),
        expected: JSON.parse(readFileSync(expectedPath, 'utf8')),
      };
    })
    .filter(Boolean);
}
