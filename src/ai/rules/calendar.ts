/**
 * The rules brain's calendar (`enable_calendar` without a language model): when the callee offers times
 * ("Tuesday at 10 am, or Wednesday at 2 pm"), it reads each as a local time in the call's time zone, takes
 * the first the client's calendar has free, books it (with `calendar_permissions.write`) and accepts it.
 */
import { formatInZone, instantOf, localTimeOf } from '../../core/calendar/time-zone.js';

/** A time the callee offered: the words said and the instant they name in the call's time zone. */
export interface OfferedTime {
  words: string;
  start: number;
}

const DAYS_EN = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAYS_SV = ['söndag', 'måndag', 'tisdag', 'onsdag', 'torsdag', 'fredag', 'lördag'];

const OFFER_RE = new RegExp(
  `\\b(today|tomorrow|idag|i dag|imorgon|i morgon|${[...DAYS_EN, ...DAYS_SV].join('|')})(?:,?\\s+(?:at|from|klockan|kl\\.?))?\\s+(\\d{1,2})(?:[:.](\\d{2}))?\\s*(am|pm|a\\.m\\.|p\\.m\\.)?`,
  'giu',
);

/** Days from the local date of `now` to the day named. A weekday is the next one (today only if the time is still ahead). */
function daysAhead(day: string, todayWeekday: number): number {
  const d = day.toLowerCase();
  if (['today', 'idag', 'i dag'].includes(d)) return 0;
  if (['tomorrow', 'imorgon', 'i morgon'].includes(d)) return 1;
  const target = DAYS_EN.indexOf(d) >= 0 ? DAYS_EN.indexOf(d) : DAYS_SV.indexOf(d);
  return (target - todayWeekday + 7) % 7;
}

/** Hours as people say them: "2 pm" is 14, "12 am" is 0, and a bare 1–7 at a business is the afternoon. */
function hour24(h: number, meridiem: string | undefined): number {
  const m = meridiem?.toLowerCase().replace(/\./g, '');
  if (m === 'pm') return h % 12 + 12;
  if (m === 'am') return h % 12;
  return h >= 1 && h <= 7 ? h + 12 : h;
}

/** The times offered in `text`, in the order said, resolved against `now` in `timeZone`; past ones left out. */
export function offeredTimes(text: string, now: number, timeZone: string): OfferedTime[] {
  const today = localTimeOf(now, timeZone);
  const out: OfferedTime[] = [];
  for (const m of text.matchAll(OFFER_RE)) {
    const h = Number(m[2]);
    const min = m[3] ? Number(m[3]) : 0;
    if (h > 23 || min > 59) continue;
    const ahead = daysAhead(m[1], today.weekday);
    const localDay = new Date(Date.UTC(today.year, today.month - 1, today.day + ahead));
    let start = instantOf({ year: localDay.getUTCFullYear(), month: localDay.getUTCMonth() + 1, day: localDay.getUTCDate(), hour: hour24(h, m[4]), minute: min }, timeZone);
    // "Tuesday at 10" said on a Tuesday after ten: next week's (DST shifts aside, a week later).
    if (start <= now && ahead === 0 && !/^(today|idag|i dag)$/i.test(m[1])) start += 7 * 24 * 3600_000;
    if (start > now) out.push({ words: m[0].trim(), start });
  }
  return out;
}

/** The appointment's length: "a 45-minute …" in the task, else half an hour. */
export function appointmentMinutes(task: string): number {
  const m = /\b(\d{2,3})[- ]?(?:minute|min|minuter)\b/i.exec(task);
  const n = m ? Number(m[1]) : 30;
  return n >= 5 && n <= 480 ? n : 30;
}

/** `2026-01-07T14:00` in `timeZone`: the local form the calendar requests take. */
export function localIso(ms: number, timeZone: string): string {
  return formatInZone(ms, timeZone).slice(0, 16);
}
