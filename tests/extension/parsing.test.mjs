// Pure parsing: localized times/dates, data-pre-plain-text, data-id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseTime, parseNumericDate, inferDateOrder, localeDateOrder, parseDividerDate, splitPrePlainText, formatTimestamp,
} from '../../extension/content/whatsapp/timestamp.js';
import { parseDataId, phoneFromJid, isGroupJid } from '../../extension/content/whatsapp/message-id.js';

test('parseTime: 24 h and 12 h with every space WhatsApp uses before AM/PM', () => {
  assert.deepEqual(parseTime('09:14'), { hour: 9, minute: 14 });
  assert.deepEqual(parseTime('10:30\u202fPM'), { hour: 22, minute: 30 });
  assert.deepEqual(parseTime('10:30\u00a0pm'), { hour: 22, minute: 30 });
  assert.deepEqual(parseTime('10:30 PM'), { hour: 22, minute: 30 });
  assert.deepEqual(parseTime('12:05\u202fAM'), { hour: 0, minute: 5 });
  assert.deepEqual(parseTime('12:30\u202fPM'), { hour: 12, minute: 30 });
  assert.deepEqual(parseTime('1:15 p.m.'), { hour: 13, minute: 15 });
  assert.equal(parseTime('0:42x'), null);
  assert.equal(parseTime('25:00'), null);
  assert.equal(parseTime('13:00 PM'), null);
  assert.equal(parseTime('Ana Souza'), null);
});

test('date order: page language, and a component > 12 wins', () => {
  assert.equal(localeDateOrder('pt-BR'), 'DMY');
  assert.equal(localeDateOrder('en-US'), 'MDY');
  assert.equal(localeDateOrder('en'), 'MDY');
  assert.equal(localeDateOrder('en-GB'), 'DMY');
  assert.equal(localeDateOrder(''), 'DMY');
  assert.equal(inferDateOrder(['3/9/2026'], 'en-US'), 'MDY');
  assert.equal(inferDateOrder(['3/9/2026'], 'pt-BR'), 'DMY');
  assert.equal(inferDateOrder(['3/9/2026', '3/14/2026'], 'pt-BR'), 'MDY');
  assert.equal(inferDateOrder(['13/03/2026'], 'en-US'), 'DMY');
  assert.deepEqual(parseNumericDate('10/03/2026', 'DMY'), { year: 2026, month: 3, day: 10 });
  assert.deepEqual(parseNumericDate('10/03/2026', 'MDY'), { year: 2026, month: 10, day: 3 });
  assert.deepEqual(parseNumericDate('3/14/2026', 'DMY'), { year: 2026, month: 3, day: 14 });
  assert.deepEqual(parseNumericDate('14.03.26', 'MDY'), { year: 2026, month: 3, day: 14 });
  assert.deepEqual(parseNumericDate('2026-03-14', 'MDY'), { year: 2026, month: 3, day: 14 });
  assert.equal(parseNumericDate('31/02/2026', 'DMY'), null);
  assert.equal(parseNumericDate('HOJE', 'DMY'), null);
});

test('relative dividers: today, yesterday and weekdays of the last week (pt, en, es)', () => {
  const now = new Date(2026, 2, 12, 10, 0); // Thursday
  assert.deepEqual(parseDividerDate('HOJE', 'DMY', now), { year: 2026, month: 3, day: 12 });
  assert.deepEqual(parseDividerDate('Yesterday', 'MDY', now), { year: 2026, month: 3, day: 11 });
  assert.deepEqual(parseDividerDate('TERÇA-FEIRA', 'DMY', now), { year: 2026, month: 3, day: 10 });
  assert.deepEqual(parseDividerDate('FRIDAY', 'MDY', now), { year: 2026, month: 3, day: 6 });
  assert.deepEqual(parseDividerDate('jueves', 'DMY', now), { year: 2026, month: 3, day: 5 });
  assert.deepEqual(parseDividerDate('3/9/2026', 'MDY', now), { year: 2026, month: 3, day: 9 });
  assert.equal(parseDividerDate('MENSAGENS NÃO LIDAS', 'DMY', now), null);
});

test('splitPrePlainText: time, date and author in either order; colons in names', () => {
  assert.deepEqual(splitPrePlainText('[09:14, 10/03/2026] Mariana Costa: '),
    { time: '09:14', date: '10/03/2026', author: 'Mariana Costa' });
  assert.deepEqual(splitPrePlainText('[10:30\u202fPM, 3/9/2026] Maple & Pine Outfitters: '),
    { time: '10:30\u202fPM', date: '3/9/2026', author: 'Maple & Pine Outfitters' });
  assert.deepEqual(splitPrePlainText('[10/03/2026, 09:14] Loja: Centro: '),
    { time: '09:14', date: '10/03/2026', author: 'Loja: Centro' });
  assert.equal(splitPrePlainText('no brackets'), null);
  assert.equal(formatTimestamp({ year: 2026, month: 3, day: 9 }, { hour: 7, minute: 5 }), '2026-03-09T07:05:00');
  assert.equal(formatTimestamp(null, { hour: 7, minute: 5 }), null);
});

test('parseDataId: packed 1:1, group with participant, @lid, bare', () => {
  assert.deepEqual(parseDataId('false_5511987654321@c.us_3A0EE42548FE686E7167'), {
    packed: true, fromMe: false, chatJid: '5511987654321@c.us', messageId: '3A0EE42548FE686E7167', participant: null,
  });
  assert.deepEqual(parseDataId('true_120363041876543210@g.us_3EB0D2F4A6C8E0B2D4F6A8_5511912345678@c.us'), {
    packed: true, fromMe: true, chatJid: '120363041876543210@g.us', messageId: '3EB0D2F4A6C8E0B2D4F6A8',
    participant: '5511912345678@c.us',
  });
  assert.equal(parseDataId('false_204857361928374@lid_3A6F0B2C4D8E1A3B5C7D').chatJid, '204857361928374@lid');
  assert.deepEqual(parseDataId('3EB07E0450FED3E8CFC493'), {
    packed: false, fromMe: null, chatJid: null, messageId: '3EB07E0450FED3E8CFC493', participant: null,
  });
  assert.equal(phoneFromJid('5511987654321@c.us'), '+5511987654321');
  assert.equal(phoneFromJid('204857361928374@lid'), null);
  assert.equal(phoneFromJid('120363041876543210@g.us'), null);
  assert.equal(phoneFromJid(null), null);
  assert.ok(isGroupJid('120363041876543210@g.us'));
  assert.ok(!isGroupJid('5511987654321@c.us'));
});
