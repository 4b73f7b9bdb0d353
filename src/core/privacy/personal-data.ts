/**
 * Finds personal data written into free text (a call's task): Swedish personal identity numbers
 * (personnummer and samordningsnummer, check digit verified), payment card numbers (Luhn verified) and
 * phone numbers (libphonenumber's full metadata, so only numbers that can exist are taken). A run of
 * digits that fails its checksum is left alone: an order number is not personal data.
 */
import luhn from 'fast-luhn';
import { findPhoneNumbersInText, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import personnummerModule from 'personnummer';

// The package's types declare an ES default export while its CommonJS build sets module.exports: take either.
const Personnummer = (
  'valid' in personnummerModule ? personnummerModule : (personnummerModule as { default: unknown }).default
) as typeof personnummerModule.default;

export type PersonalDataKind = 'identity_number' | 'card_number' | 'phone_number';

export interface PersonalDataMatch {
  kind: PersonalDataKind;
  /** Where it stands in the text (`text.slice(start, end)` is the number as written). */
  start: number;
  end: number;
  /** What would be typed on a keypad: its digits only. */
  digits: string;
}

export interface FindOptions {
  /**
   * Numbers that are not personal data in this text: the call's destination and transfer number (E.164).
   * Their country also decides how a phone number written without one is read.
   */
  ownNumbers?: string[];
}

// 6 or 8 digits of birth date, an optional separator (`-`, `+` for those over 100, or a space), 4 digits.
const IDENTITY_RE = /(?<![\d+])(?:\d{6}|\d{8})[-+ ]?\d{4}(?![\d])/g;
// 13 to 19 digits, optionally grouped by single spaces or dashes (as printed on cards).
const CARD_RE = /(?<![\d+])\d(?:[ -]?\d){12,18}(?![\d])/g;

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

function identityNumbers(text: string): PersonalDataMatch[] {
  const found: PersonalDataMatch[] = [];
  for (const m of text.matchAll(IDENTITY_RE)) {
    // The library checks the date and the check digit (and accepts coordination numbers, day + 60).
    const written = m[0].replace(' ', '-');
    if (!Personnummer.valid(written)) continue;
    // Always the 12-digit form (century included): one number however it was written, and what Swedish menus take.
    const digits = Personnummer.parse(written).format(true);
    found.push({ kind: 'identity_number', start: m.index, end: m.index + m[0].length, digits });
  }
  return found;
}

function cardNumbers(text: string): PersonalDataMatch[] {
  const found: PersonalDataMatch[] = [];
  for (const m of text.matchAll(CARD_RE)) {
    const digits = digitsOf(m[0]);
    if (luhn(digits)) found.push({ kind: 'card_number', start: m.index, end: m.index + m[0].length, digits });
  }
  return found;
}

/**
 * The countries of numbers already parsed. A call's own numbers are the same on every turn, and parsing one
 * costs about as much as the rest of a turn's privacy check; bounded (cleared when full), as a live node
 * sees a few numbers per call.
 */
const countries = new Map<string, CountryCode | null>();
const MAX_COUNTRIES = 10_000;

function countryOfNumber(n: string): CountryCode | undefined {
  let c = countries.get(n);
  if (c === undefined) {
    if (countries.size >= MAX_COUNTRIES) countries.clear();
    c = parsePhoneNumberFromString(n)?.country ?? null;
    countries.set(n, c);
  }
  return c ?? undefined;
}

function countryOf(numbers: string[]): CountryCode | undefined {
  for (const n of numbers) {
    const country = countryOfNumber(n);
    if (country) return country;
  }
  return undefined;
}

function phoneNumbers(text: string, own: string[]): PersonalDataMatch[] {
  const defaultCountry = countryOf(own);
  return findPhoneNumbersInText(text, defaultCountry ? { defaultCountry } : undefined)
    .filter((m) => !own.includes(m.number.number))
    .map((m) => ({ kind: 'phone_number' as const, start: m.startsAt, end: m.endsAt, digits: digitsOf(m.number.number) }));
}

const overlaps = (a: PersonalDataMatch, b: PersonalDataMatch) => a.start < b.end && b.start < a.end;

/**
 * Every piece of personal data in `text`, in reading order. Identity numbers win over card numbers and both
 * over phone numbers where they overlap (a personnummer also parses as a phone number in some countries).
 */
export function findPersonalData(text: string, opts: FindOptions = {}): PersonalDataMatch[] {
  const kept: PersonalDataMatch[] = [];
  for (const m of [...identityNumbers(text), ...cardNumbers(text), ...phoneNumbers(text, opts.ownNumbers ?? [])]) {
    if (!kept.some((k) => overlaps(k, m))) kept.push(m);
  }
  return kept.sort((a, b) => a.start - b.start);
}
