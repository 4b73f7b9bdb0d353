/**
 * What the rules brain recognises in the callee's words: phone-menu options, hold messages, the beep,
 * requests for a detail, a confirmation or a refusal, a goodbye. Plain patterns in English and Swedish;
 * they are meant to be read and extended, not to be clever.
 */
import { own } from '../../lib/own.js';

export function norm(text: string): string {
  return text.toLowerCase().replace(/[’]/g, "'");
}

// ---- phone menus -------------------------------------------------------------------------------

export interface MenuOption {
  digits: string;
  label: string;
}

const KEY = '([0-9*#]|zero|one|two|three|four|five|six|seven|eight|nine|star|hash|pound|noll|ett|en|två|tre|fyra|fem|sex|sju|åtta|nio|stjärna|fyrkant)';
const KEY_WORDS: Record<string, string> = {
  zero: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
  star: '*', hash: '#', pound: '#',
  noll: '0', ett: '1', en: '1', två: '2', tre: '3', fyra: '4', fem: '5', sex: '6', sju: '7', åtta: '8', nio: '9',
  stjärna: '*', fyrkant: '#',
};
const LABEL = '([^,.;:!?]+?)';
// "For appointments, press 1" / "press 1 for appointments", and the Swedish "för X, tryck N" / "tryck N för X".
const MENU_PATTERNS: Array<{ re: RegExp; label: number; key: number }> = [
  { re: new RegExp(`(?:^|[\\s,.;])(?:for|to|if you (?:want|would like) to)\\s+${LABEL},?\\s+(?:please\\s+)?press\\s+${KEY}(?![\\w])`, 'gi'), label: 1, key: 2 },
  { re: new RegExp(`press\\s+${KEY}\\s+(?:for|to)\\s+${LABEL}(?=$|[,.;:!?]|\\s+(?:or|and)\\b)`, 'gi'), label: 2, key: 1 },
  { re: new RegExp(`(?:^|[\\s,.;])(?:för|om du vill|vill du)\\s+${LABEL},?\\s+(?:så\\s+)?tryck\\s+${KEY}(?![\\wåäö])`, 'gi'), label: 1, key: 2 },
  { re: new RegExp(`tryck\\s+${KEY}\\s+(?:för|om du vill)\\s+${LABEL}(?=$|[,.;:!?])`, 'gi'), label: 2, key: 1 },
];

/**
 * The keypad options spoken in `text`, in the order spoken (first mention of each key wins). Where a
 * "for X, press N" reading overlaps a "press N for X" one, the latter wins: in "press one for billing,
 * press two for lab results" the words "for billing, press two" must not pair billing with 2.
 */
export function parseMenu(text: string): MenuOption[] {
  const keyFirst = collect(text, MENU_PATTERNS.filter((p) => p.key < p.label));
  const labelFirst = collect(text, MENU_PATTERNS.filter((p) => p.key > p.label)).filter(
    (a) => !keyFirst.some((b) => a.at < b.end && b.at < a.end),
  );
  const all = [...keyFirst, ...labelFirst].sort((a, b) => a.at - b.at);
  const seen = new Set<string>();
  return all.filter((o) => !seen.has(o.digits) && seen.add(o.digits)).map(({ digits, label }) => ({ digits, label }));
}

function collect(text: string, patterns: typeof MENU_PATTERNS): Array<MenuOption & { at: number; end: number }> {
  const found: Array<MenuOption & { at: number; end: number }> = [];
  for (const { re, label, key } of patterns) {
    for (const m of text.matchAll(re)) {
      const k = m[key].toLowerCase();
      const at = m.index ?? 0;
      found.push({ digits: own(KEY_WORDS, k) ?? k, label: m[label].trim(), at, end: at + m[0].length });
    }
  }
  return found;
}

/** Words that mean the same thing to a phone menu. A word may be in several groups. */
const SYNONYMS: string[][] = [
  ['booking', 'book', 'appointment', 'reservation', 'reserve', 'reschedule', 'table', 'visit', 'bokning', 'boka', 'tid', 'besök', 'tidsbokning'],
  ['change', 'move', 'reschedule', 'cancel', 'modify', 'existing', 'postpone', 'flytta', 'ändra', 'avboka', 'omboka', 'befintlig'],
  ['confirm', 'check', 'existing', 'verify', 'bekräfta', 'kolla', 'befintlig'],
  ['new', 'make', 'ny', 'nytt'],
  ['prescription', 'refill', 'medicine', 'medication', 'pharmacy', 'recept', 'medicin', 'apotek', 'läkemedel'],
  ['speak', 'someone', 'operator', 'reception', 'receptionist', 'agent', 'person', 'staff', 'representative', 'human', 'växel', 'personal', 'handläggare'],
  ['billing', 'bill', 'invoice', 'payment', 'pay', 'faktura', 'betalning', 'betala'],
  ['result', 'test', 'lab', 'provsvar', 'prov'],
];

const STOP = new Set(
  'a an the to for of or and your my our on in at with if you would like want please is are be it this that about att och eller för om du vill din ditt dina en ett med på i av'.split(' '),
);

function stem(w: string): string {
  return w.length > 4 ? w.replace(/(ings|ing|ed|es|s|ar|er|en)$/, '') : w;
}

function tokens(text: string): string[] {
  return norm(text)
    .split(/[^a-z0-9åäöéü]+/)
    .filter((w) => w && !STOP.has(w));
}

/** The concepts a word stands for: its synonym groups, or else its stem. */
function concepts(word: string): string[] {
  const s = stem(word);
  const groups = SYNONYMS.flatMap((g, i) => (g.some((x) => x === word || stem(x) === s) ? [`#${i}`] : []));
  return groups.length ? groups : [s];
}

/** How well a menu option's label fits the task: the number of distinct concepts they share. */
export function scoreOption(label: string, task: string): number {
  const taskConcepts = new Set(tokens(task).flatMap(concepts));
  const shared = new Set(tokens(label).flatMap(concepts).filter((c) => taskConcepts.has(c)));
  return shared.size;
}

const OPERATOR = /\b(speak|talk) (to|with)\b|operator|reception|someone|representative|an agent|staff|person|växel|handläggare|personal/i;

/**
 * The option to press for `task`: the best-scoring one, or else one that reaches a person, or undefined
 * (wait for more of the menu).
 */
export function chooseOption(options: MenuOption[], task: string): MenuOption | undefined {
  let best: MenuOption | undefined;
  let bestScore = 0;
  for (const o of options) {
    const s = scoreOption(o.label, task);
    if (s > bestScore) [best, bestScore] = [o, s];
  }
  return best ?? options.find((o) => OPERATOR.test(o.label));
}

// ---- what kind of utterance ---------------------------------------------------------------------

export const isBeep = (t: string) => /^\W*(beep|pip|biip)\W*$/i.test(t.trim()) || t.includes('*beep*');

export const isHold = (t: string) =>
  /please hold|hold the line|stay on the line|your call is important|in the queue|in a queue|are currently busy|all (of )?our (staff|agents|representatives|lines)|connect you|next available|vänligen vänta|var god vänta|du är nummer|i kö|alla (våra )?(handläggare|medarbetare|linjer)|kopplar dig/i.test(t);

export const isHelpQuestion = (t: string) =>
  /how (can|may) i help|what can i do for you|how can we help|what can we do for you|vad kan jag hjälpa|hur kan jag hjälpa|vad gäller (det|saken)/i.test(t);

const QUESTION_OPENER = /^(can|could|would|will|do|did|is|are|what|when|which|who|where|how|kan|har|vad|när|vilken|vilket|vem|var|hur)\b/i;
/**
 * Speech recognisers write no question marks and run sentences together ("thank you and do you have the booking
 * reference"), so a question may also open after a short lead-in, or be a "could you …" or "are you …" anywhere.
 */
const LEAD_IN = /^((and|so|ok(ay)?|right|all ?right|great|sorry|thanks|thank you|och|så|okej|tack|förlåt)[\s,]+)+/i;
const ASKS_YOU = /\b(can|could|would|will|do|did|are) you\b|\b(kan|är) (du|ni)\b/i;

export const isQuestion = (t: string) => {
  const s = t.trim();
  return /\?\s*$/.test(s) || /\?\s/.test(t) || QUESTION_OPENER.test(s) || QUESTION_OPENER.test(s.replace(LEAD_IN, '')) || ASKS_YOU.test(s);
};

export const isGreeting = (t: string) => /^(hello|hi|hey|hallå|hej|good (morning|afternoon|evening))\b/i.test(t.trim());

/** "Are you still there?" / "Hello, anyone there?": the callee waits for an answer it has not had. */
export const isStillThere = (t: string) => /\b(still there|anyone there|anybody there|you there)\b|är du kvar|är du där|är det någon där/i.test(t);

export const isGoodbye = (t: string) => /\b(good ?bye|bye)\b|hej ?då|adjö|ha det (bra|gott)/i.test(t);

export const isRefusal = (t: string) =>
  /\bunfortunately\b|\bi'?m afraid\b|\b(we|i) (can'?t|cannot|can not|won'?t be able|am not able|are not able|'re not able)\b|\bnot possible\b|\bfully booked\b|\bno availability\b|\bno (free|available) (slots?|tables?|times?)\b|\btyvärr\b|\bgår inte\b|\bkan (jag|vi) inte\b|\bfullbokat?\b/i.test(
    t,
  );

// "…Anything else I can help with?" closes what the callee did for us: a recogniser may have dropped the
// "that's confirmed" before it, but the question that ends the errand survives.
export const isCompleted = (t: string) =>
  /\b(confirmed|anything else (i|we) can (help|do)|all set|all done|that's done|it's done|i'?ve (moved|changed|rescheduled|cancell?ed|booked|updated)|(has|have) been (moved|changed|rescheduled|cancell?ed|booked|updated)|is booked|you're booked|sorted)\b|bekräftad|är bokad|har (flyttat|avbokat|bokat|ändrat)|är (flyttad|avbokad|ändrad)|\bklart\b|\bfixat\b|\bordnat\b/i.test(
    t,
  );

export const isAffirmative = (t: string) =>
  /\b(yes|yeah|yep|sure|ok|okay|please|go ahead|that's fine|ja|visst|gärna|absolut|okej|varsågod|javisst)\b/i.test(t);

/** "Let me check", "one moment": the callee is busy, not answering. */
export const isStalling = (t: string) =>
  /let me (check|see|look)|one moment|just a (moment|second|sec)|hold on|bear with me|ett ögonblick|vänta lite|jag ska (kolla|se)/i.test(t);

const KEYPAD = /keypad|key pad|\btype\b|\benter\b|punch in|using the keys|knappa in|slå in|tryck in|\bange\b/i;

export type AskedField = 'personal_security_number' | 'phone' | 'reference' | 'email' | 'date_of_birth' | 'address' | 'name' | 'when' | 'role';

const FIELD_PATTERNS: Array<[AskedField, RegExp]> = [
  ['personal_security_number', /personal (identity|identification|security) number|social security|\bssn\b|personnummer/i],
  ['phone', /phone number|telephone number|contact number|mobile number|number (to reach|we can reach)|call ?back number|telefonnummer|mobilnummer/i],
  ['reference', /reference|booking number|confirmation (number|code)|reservation number|order number|bokningsnum|referens|ordernummer/i],
  ['email', /e-?mail|e-post/i],
  ['date_of_birth', /date of birth|birthday|födelsedatum|född/i],
  ['address', /\baddress\b|\badress\b/i],
  ['name', /\bname\b|who('s| is) (calling|speaking)|may i ask who|\bnamn|vem (är det som ringer|pratar jag med)/i],
  ['when', /\bwhen\b|what (day|date|time)|which (day|date|time)|\bnär\b|vilken (dag|tid)|vilket datum/i],
  ['role', /who are you|your relation|are you the patient|vem är du|er relation|din relation/i],
];

/**
 * "What name is the booking under?" heard by a recogniser that dropped "what name" (it heard "i'm floor what
 * to the booking under"): an utterance that ends on "booking under" can only be asking for the name.
 */
const ASKS_NAME = /\bunder (what|which|whose) name\b|\b(booking|reservation|table|appointment)s? (is |was )?under\W*$/i;

/** The detail the callee asks the agent for, if the utterance is such a request. */
export function askedField(text: string): { field: AskedField; keypad: boolean } | undefined {
  if (ASKS_NAME.test(text.trim())) return { field: 'name', keypad: false };
  if (!isQuestion(text) && !/\b(please (give|tell|enter|type)|can i have|could i have|i need|i'll need|uppge|ange|jag behöver)\b/i.test(text)) {
    return undefined;
  }
  const hit = FIELD_PATTERNS.find(([, re]) => re.test(text));
  return hit ? { field: hit[0], keypad: KEYPAD.test(text) } : undefined;
}

// ---- facts in the task -------------------------------------------------------------------------

/** A booking reference written in `text` ("booking reference AB123", "bokningsnummer AB-123"). */
export function findReference(text: string): string | undefined {
  const kw = /(booking|reservation|confirmation|reference|ref|order|bokning|referens|order)s?[- ]?(number|no\.?|code|reference|nummer|nr|kod)?\b/gi;
  for (const m of text.matchAll(kw)) {
    const after = text.slice((m.index ?? 0) + m[0].length).split(/\s+/).slice(0, 5);
    for (const raw of after) {
      const w = raw.replace(/^[:#(]+|[.,;:)!?]+$/g, '');
      if (/^[A-Z0-9][A-Z0-9-]{2,11}$/.test(w) && /\d/.test(w)) return w;
    }
  }
  return undefined;
}

const WHEN_EN =
  /\b((?:on |this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow)(?:,? (?:the )?\d{1,2}(?:st|nd|rd|th)?(?: of \w+)?)?(?:,? (?:at|from) \d{1,2}(?:[:.]\d{2})? ?(?:am|pm|a\.m\.|p\.m\.)?)?)/i;
const WHEN_SV =
  /((?:på |nästa )?(?:måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|idag|i dag|imorgon|i morgon)(?: den \d{1,2}(?: \w+)?)?(?:,? (?:klockan|kl\.?) \d{1,2}(?:[:.]\d{2})?)?)/i;

/** The first day/time written in `text` ("on Tuesday at 7 pm", "på tisdag klockan 10"). */
export function findWhen(text: string): string | undefined {
  return (text.match(WHEN_EN)?.[1] ?? text.match(WHEN_SV)?.[1])?.trim();
}
