// Parsing of WhatsApp's localized times and dates into the capture's timestamp
// ("YYYY-MM-DDTHH:MM:00", local time, no offset). WhatsApp only exposes minutes.

const pad = (n, width = 2) => String(n).padStart(width, '0');

// Spaces WhatsApp puts between the time and AM/PM: normal, NBSP, and U+202F (narrow NBSP).
const TIME_RE = /^(\d{1,2})[:.](\d{2})(?:[\s\u00a0\u202f]*([ap])\.?[\s\u00a0\u202f]?m\.?)?$/i;
const NUMERIC_DATE_RE = /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})\.?$/;

// Locales whose short date is month first. Everything else WhatsApp ships is day first
// (or year first, which a 4-digit leading component reveals by itself).
const MONTH_FIRST_LANGS = new Set(['en', 'en-us', 'es-us', 'en-ph', 'fil']);

const TODAY = new Set(['today', 'hoje', 'hoy']);
const YESTERDAY = new Set(['yesterday', 'ontem', 'ayer']);
// Dividers for the last week name the weekday. Index = Date#getDay().
const WEEKDAYS = [
  ['sunday', 'domingo'],
  ['monday', 'segunda-feira', 'segunda', 'lunes'],
  ['tuesday', 'terca-feira', 'terca', 'martes'],
  ['wednesday', 'quarta-feira', 'quarta', 'miercoles'],
  ['thursday', 'quinta-feira', 'quinta', 'jueves'],
  ['friday', 'sexta-feira', 'sexta', 'viernes'],
  ['saturday', 'sabado'],
];

const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').trim().toLowerCase();

/** "09:14" / "10:30\u202fPM" → {hour, minute} in 24 h, or null. */
export function parseTime(text) {
  const m = TIME_RE.exec(String(text ?? '').trim());
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const half = m[3]?.toLowerCase();
  if (half) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (half === 'p' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** "10/03/2026" → [10, 3, 2026] (raw components, order unknown yet), or null. */
export function numericDateParts(text) {
  const m = NUMERIC_DATE_RE.exec(String(text ?? '').trim());
  return m ? { parts: [Number(m[1]), Number(m[2]), Number(m[3])], yearFirst: m[1].length === 4 } : null;
}

/** Date order from the page language: 'MDY' for en-US style locales, else 'DMY'. */
export function localeDateOrder(lang) {
  const l = String(lang || '').toLowerCase();
  return MONTH_FIRST_LANGS.has(l) ? 'MDY' : 'DMY';
}

/**
 * Date order for a whole page: a component > 12 anywhere settles it (it can only be a day),
 * otherwise the page language decides.
 */
export function inferDateOrder(dateTexts, lang) {
  for (const text of dateTexts) {
    const p = numericDateParts(text);
    if (!p || p.yearFirst) continue;
    const [a, b] = p.parts;
    if (a > 12 && b <= 12) return 'DMY';
    if (b > 12 && a <= 12) return 'MDY';
  }
  return localeDateOrder(lang);
}

const validDate = (year, month, day) => {
  if (month < 1 || month > 12 || day < 1) return null;
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= last ? { year, month, day } : null;
};

const fullYear = (y) => (y < 100 ? 2000 + y : y);

/** Numeric date text → {year, month, day}; a component > 12 overrides `order` for this date. */
export function parseNumericDate(text, order) {
  const p = numericDateParts(text);
  if (!p) return null;
  const [a, b, c] = p.parts;
  if (p.yearFirst) return validDate(a, b, c);
  let monthFirst = order === 'MDY';
  if (a > 12 && b <= 12) monthFirst = false;
  else if (b > 12 && a <= 12) monthFirst = true;
  return monthFirst ? validDate(fullYear(c), a, b) : validDate(fullYear(c), b, a);
}

const dayOf = (d) => ({ year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate() });
const daysBefore = (now, n) => new Date(now.getFullYear(), now.getMonth(), now.getDate() - n);

/**
 * A date divider's text → {year, month, day} or null. Handles numeric dates and the
 * relative labels of recent days (TODAY, ONTEM, SEGUNDA-FEIRA…), resolved against `now`.
 */
export function parseDividerDate(text, order, now) {
  const numeric = parseNumericDate(text, order);
  if (numeric) return numeric;
  const word = fold(String(text ?? ''));
  if (!word || !now) return null;
  if (TODAY.has(word)) return dayOf(now);
  if (YESTERDAY.has(word)) return dayOf(daysBefore(now, 1));
  const weekday = WEEKDAYS.findIndex((names) => names.includes(word));
  if (weekday < 0) return null;
  // Weekday labels cover the days before yesterday, within the last week.
  for (let n = 2; n <= 7; n += 1) {
    const d = daysBefore(now, n);
    if (d.getDay() === weekday) return dayOf(d);
  }
  return null;
}

/**
 * data-pre-plain-text "[09:14, 10/03/2026] Mariana Costa: " → {time, date, author} (raw texts).
 * The part holding ":" is the time, whichever order the locale uses; the author is everything
 * up to the last colon (names may contain colons).
 */
export function splitPrePlainText(value) {
  const m = /^\s*\[([^\]]*)\]\s*([\s\S]*?):\s*$/.exec(String(value ?? ''));
  if (!m) return null;
  const pieces = m[1].split(',').map((s) => s.trim()).filter(Boolean);
  const time = pieces.find((s) => parseTime(s)) ?? null;
  const date = pieces.find((s) => s !== time) ?? null;
  return { time, date, author: m[2].trim() || null };
}

/** {year, month, day} + {hour, minute} → "YYYY-MM-DDTHH:MM:00", or null when either is missing. */
export function formatTimestamp(date, time) {
  if (!date || !time) return null;
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}T${pad(time.hour)}:${pad(time.minute)}:00`;
}
