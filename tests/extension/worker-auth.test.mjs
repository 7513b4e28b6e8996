// The worker's API client: automatic refresh, never two refreshes at once (a re-used refresh
// token would sign the device out), and what happens when the refresh token is dead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, ApiError, NetworkError } from '../../extension/background/api.js';
import { createTokenStore } from '../../extension/background/tokens.js';
import { fakeStorage, fakeFetch, json, deferred } from './helpers/fakes.mjs';

const SERVER = 'http://127.0.0.1:8765';
const answer = (n) => ({ access_token: `access-${n}`, refresh_token: `refresh-${n}`, token_type: 'Bearer', expires_in: 900, user: { id: 'u1', username: 'ana', role: 'admin' } });

async function setup(route, { now = () => 1_000_000, persist = false } = {}) {
  const storage = fakeStorage();
  const tokens = createTokenStore(storage, { persistRefresh: async () => persist });
  const f = fakeFetch(route);
  const api = createApi({ fetch: f.fetch, tokens, serverUrl: async () => SERVER, now });
  return { storage, tokens, api, calls: f.calls };
}

test('an expired access token is renewed by exactly one refresh, shared by concurrent requests', async () => {
  const gate = deferred();
  let refreshes = 0;
  const s = await setup(async (call) => {
    if (call.path === '/api/v1/auth/refresh') {
      refreshes += 1;
      assert.equal(call.body.refresh_token, 'refresh-1');
      await gate.promise; // hold the refresh while the other requests pile up
      return json(200, answer(2));
    }
    assert.equal(call.headers.Authorization, 'Bearer access-2');
    return json(200, { path: call.path });
  });
  await s.tokens.set(answer(1), 0); // expired long ago
  const pending = [s.api.get('/contacts'), s.api.get('/conversations'), s.api.get('/metrics?from=2026-03-10'), s.api.post('/captures', { a: 1 })];
  await new Promise((r) => setTimeout(r, 10));
  gate.resolve();
  const results = await Promise.all(pending);
  assert.equal(refreshes, 1);
  assert.deepEqual(results.map((r) => r.path), ['/api/v1/contacts', '/api/v1/conversations', '/api/v1/metrics?from=2026-03-10', '/api/v1/captures']);
  assert.equal((await s.tokens.get()).refresh_token, 'refresh-2');
});

test('a 401 on a valid-looking token refreshes once and retries; parallel 401s still share one refresh', async () => {
  let refreshes = 0;
  const s = await setup(async (call) => {
    if (call.path === '/api/v1/auth/refresh') {
      refreshes += 1;
      await new Promise((r) => setTimeout(r, 5));
      return json(200, answer(refreshes + 1));
    }
    if (call.headers.Authorization === 'Bearer access-1') return json(401, { error: { code: 'invalid_token', message: 'expired' } });
    return json(200, { ok: call.headers.Authorization });
  });
  await s.tokens.set(answer(1), 1_000_000); // looks fresh to the client, the server disagrees
  const out = await Promise.all([s.api.get('/a'), s.api.get('/b'), s.api.get('/c')]);
  assert.equal(refreshes, 1);
  assert.deepEqual(out, [{ ok: 'Bearer access-2' }, { ok: 'Bearer access-2' }, { ok: 'Bearer access-2' }]);
});

test('sequential refreshes each use the newest refresh token (rotation), never an old one', async () => {
  let clock = 1_000_000;
  const used = [];
  const s = await setup(async (call) => {
    if (call.path === '/api/v1/auth/refresh') {
      used.push(call.body.refresh_token);
      return json(200, answer(used.length + 1));
    }
    return json(200, {});
  }, { now: () => clock });
  await s.tokens.set(answer(1), 0);
  await s.api.get('/x');
  clock += 3_600_000; // an hour later the new access token has expired too
  await s.api.get('/x');
  assert.deepEqual(used, ['refresh-1', 'refresh-2']);
});

test('a rejected refresh (re-used or revoked token) signs out: tokens cleared, not_paired/signed_out error', async () => {
  const s = await setup(async (call) => {
    if (call.path === '/api/v1/auth/refresh') return json(401, { error: { code: 'refresh_reused', message: 'already used' } });
    return json(200, {});
  });
  await s.tokens.set(answer(1), 0);
  await assert.rejects(s.api.get('/contacts'), (err) => err instanceof ApiError && err.code === 'signed_out');
  assert.equal(await s.tokens.get(), null);
  await assert.rejects(s.api.get('/contacts'), (err) => err.code === 'not_paired');
  assert.equal(s.calls.filter((c) => c.path === '/api/v1/auth/refresh').length, 1);
});

test('server down during a refresh keeps the tokens (it is not a sign-out) and reports unreachable', async () => {
  const s = await setup(async () => { throw new TypeError('Failed to fetch'); });
  await s.tokens.set(answer(1), 0);
  await assert.rejects(s.api.get('/contacts'), NetworkError);
  assert.equal((await s.tokens.get()).refresh_token, 'refresh-1');
});

test('pair stores tokens; errors keep the server shape; public calls carry no token', async () => {
  const s = await setup(async (call) => {
    if (call.path === '/api/v1/auth/pair') {
      assert.equal(call.headers.Authorization, undefined);
      return call.body.code === '1234-5678' ? json(200, answer(1)) : json(401, { error: { code: 'bad_pairing_code', message: 'wrong' } });
    }
    if (call.path === '/api/v1/health') return json(200, { status: 'ok', api_version: 1 });
    return json(404, { error: { code: 'not_found', message: 'nope', field: null } });
  });
  await assert.rejects(s.api.pair('0000-0000', 'dev'), (e) => e.status === 401 && e.code === 'bad_pairing_code');
  const user = await s.api.pair('1234-5678', 'dev');
  assert.equal(user.username, 'ana');
  assert.equal((await s.api.health()).api_version, 1);
  await assert.rejects(s.api.get('/quick-replies'), (e) => e.status === 404 && e.code === 'not_found');
});

test('the refresh token persists in storage.local only when that area is restricted', async () => {
  const open = await setup(async () => json(200, {}), { persist: false });
  await open.tokens.set(answer(1));
  assert.deepEqual(open.storage.local.data, {});
  const closed = await setup(async () => json(200, {}), { persist: true });
  await closed.tokens.set(answer(1));
  assert.equal(closed.storage.local.data['auth.refreshToken'], 'refresh-1');
  // A new browser session: only the persisted refresh token is left, the next call refreshes.
  await closed.storage.session.remove('auth.tokens');
  const t = await closed.tokens.get();
  assert.equal(t.refresh_token, 'refresh-1');
  assert.equal(t.expires_at, 0);
});
