// pt-BR / en formatting of waits, due times and R$ values for the panel and the worker's
// notifications (pure: no DOM, no extension APIs; unit-tested in node).

const LOCALE = { pt_BR: 'pt-BR', en: 'en-US' };
const WORDS = {
  pt_BR: { now: 'agora', day: ['dia', 'dias'], today: 'hoje', tomorrow: 'amanhã', ago: 'há' },
  en: { now: 'now', day: ['day', 'days'], today: 'today', tomorrow: 'tomorrow', ago: '' },
};

/** 'pt_BR' or 'en' from a locale tag or a chrome.i18n UI language ('pt-BR', 'en-US', 'en'…). */
export function langOf(tag) {
  return /^pt/i.test(String(tag ?? '')) ? 'pt_BR' : 'en';
}

/** A wait as people say it: "agora", "7 min", "1 h 05 min", "2 dias 3 h" ("2 days 3 h"). */
export function formatWait(seconds, lang = 'pt_BR') {
  const w = WORDS[lang] ?? WORDS.en;
  if (!Number.isFinite(seconds) || seconds < 60) return w.now;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return `${days} ${w.day[days === 1 ? 0 : 1]}${rest ? ` ${rest} h` : ''}`;
}

function dayKey(date, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

/** When a follow-up is due: "hoje 14:30", "amanhã 09:00", "12/03 09:00" (en: "today 2:30 PM", "Mar 12, 9:00 AM"). */
export function formatDue(when, now = new Date(), lang = 'pt_BR', timeZone = undefined) {
  const date = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(date.getTime())) return '';
  const w = WORDS[lang] ?? WORDS.en;
  const locale = LOCALE[lang] ?? 'en-US';
  const time = new Intl.DateTimeFormat(locale, { timeZone, hour: '2-digit', minute: '2-digit' }).format(date);
  const day = dayKey(date, timeZone);
  if (day === dayKey(now, timeZone)) return `${w.today} ${time}`;
  if (day === dayKey(new Date(now.getTime() + 86_400_000), timeZone)) return `${w.tomorrow} ${time}`;
  const opts = lang === 'pt_BR' ? { day: '2-digit', month: '2-digit' } : { month: 'short', day: 'numeric' };
  const dayText = new Intl.DateTimeFormat(locale, { timeZone, ...opts }).format(date);
  return lang === 'pt_BR' ? `${dayText} ${time}` : `${dayText}, ${time}`;
}

/** A period's dates: "10/03/2026" (en: "Mar 10, 2026"). */
export function formatDay(when, lang = 'pt_BR', timeZone = undefined) {
  const date = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(date.getTime())) return '';
  const opts = lang === 'pt_BR' ? { day: '2-digit', month: '2-digit', year: 'numeric' } : { month: 'short', day: 'numeric', year: 'numeric' };
  return new Intl.DateTimeFormat(LOCALE[lang] ?? 'en-US', { timeZone, ...opts }).format(date);
}

/** R$ in the language's format: "R$ 1.234,50" / "R$1,234.50" (the deal is in reais either way). */
export function formatMoney(value, lang = 'pt_BR') {
  if (value == null || !Number.isFinite(Number(value))) return '';
  return new Intl.NumberFormat(LOCALE[lang] ?? 'en-US', { style: 'currency', currency: 'BRL' }).format(Number(value));
}

/**
 * A typed amount back to a number, or null when empty; NaN when it is not an amount.
 * pt-BR: "1.234,56", "R$ 250", "250,5"; en: "1,234.56". Negative amounts are NaN.
 */
export function parseMoney(text, lang = 'pt_BR') {
  let s = String(text ?? '').replace(/R\$|\s|\u00a0/g, '');
  if (s === '') return null;
  if (!/^[0-9.,]+$/.test(s)) return NaN;
  const [group, decimal] = lang === 'pt_BR' ? ['.', ','] : [',', '.'];
  // "250.5" typed in pt-BR (or "250,5" in en) is still a decimal when it cannot be a thousands group.
  const other = new RegExp(`\\${group}(\\d{1,2})$`);
  if (!s.includes(decimal) && other.test(s)) s = s.replace(other, `${decimal}$1`);
  s = s.split(group).join('').replace(decimal, '.');
  const value = Number(s);
  return Number.isFinite(value) && value >= 0 ? Math.round(value * 100) / 100 : NaN;
}

/** The quick choices of "Lembrar": '1h', 'tomorrow9' (next day 09:00 local), '2d'. */
export function quickDue(choice, now = new Date()) {
  const d = new Date(now.getTime());
  if (choice === '1h') return new Date(d.getTime() + 3_600_000);
  if (choice === '2d') return new Date(d.getTime() + 2 * 86_400_000);
  if (choice === 'tomorrow9') {
    d.setDate(d.getDate() + 1);
    d.setHours(9, 0, 0, 0);
    return d;
  }
  throw new Error(`unknown choice ${choice}`);
}

/** ISO 8601 with the local offset, as POST /followups wants it: "2026-03-10T09:00:00-03:00". */
export function isoWithOffset(date) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:`
    + `${pad(date.getMinutes())}:${pad(date.getSeconds())}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}
