/**
 * Everything the rules brain says, per language. English and Swedish are written out; any other language
 * falls back to English, because a rules brain cannot translate and a clear English call beats a garbled
 * one (an LLM brain handles other languages).
 */
import { own } from '../../lib/own.js';

export interface Phrases {
  hello(behalfOf?: string): string;
  /** "I'm calling to <clause>." */
  callingTo(clause: string): string;
  /** When the task does not start with a verb: "I'm calling about the following: <task>." */
  callingAbout(task: string): string;
  /** Words that open an imperative task ("confirm my booking…"). */
  taskVerbs: RegExp;
  /** Turns the client's first-person task into words for the callee. */
  thirdPerson(clause: string): string;
  itIs(value: string): string;
  referenceIs(ref: string): string;
  whenIs(when: string): string;
  whoIAm(role?: string, behalfOf?: string): string;
  dontHave: string;
  cannotShare: string;
  keypadOffer: string;
  restate(statement: string): string;
  /** Answer to "are you still there?"; `missed`: what the callee said before went unanswered. */
  stillHere(missed: boolean): string;
  thanksDone: string;
  thanksAnswer: string;
  refusedBye: string;
  goodbye: string;
  giveUp: string;
  /** The client's calendar has this offered time free: take it. */
  acceptTime(words: string): string;
  /** None of the offered times is free in the client's calendar. */
  noOfferedTimeFree: string;
  voicemail(statement: string, behalfOf?: string, phone?: string): string;
  /** Answering a call to us: the hello without an agent greeting, asking for the caller's name, noting the request. */
  inbound: { hello: string; askName: string; noted: string; notedMore: string };
}

const en: Phrases = {
  inbound: {
    hello: 'Hello, thank you for calling. How can I help you?',
    askName: 'Certainly. May I have your name, please?',
    noted: "Thank you. I've noted your request, and we'll get back to you to confirm it. Is there anything else I can help you with?",
    notedMore: "I've noted that as well. Is there anything else?",
  },
  hello: (who) => (who ? `Hi, this is an assistant calling on behalf of ${who}.` : 'Hi, this is an assistant calling.'),
  callingTo: (c) => `I'm calling to ${c}.`,
  callingAbout: (t) => `I'm calling about the following: ${t}.`,
  taskVerbs:
    /^(confirm|move|reschedule|cancel|book|reserve|ask|check|find|get|make|order|tell|let|request|change|inform|remind|schedule|see|verify|arrange|enquire|inquire|postpone)\b/i,
  thirdPerson: (c) => c.replace(/\bmy\b/gi, 'the').replace(/\bmine\b/gi, 'theirs'),
  itIs: (v) => `It's ${v}.`,
  referenceIs: (r) => `The booking reference is ${r}.`,
  whenIs: (w) => `It's ${w}.`,
  whoIAm: (role, who) =>
    `I'm ${role ? `${role.match(/^(a|an|the)\b/i) ? role : `the ${role}`}` : 'an assistant'}${who ? `, calling on behalf of ${who}` : ''}.`,
  dontHave: "I'm sorry, I don't have that information.",
  cannotShare: "I'm sorry, I'm not able to share that.",
  keypadOffer: "I can't say that aloud, but I can type it on the keypad if that helps.",
  restate: (s) => `Sorry, let me explain. ${s}`,
  stillHere: (missed) => (missed ? "Yes, I'm still here. Sorry, I didn't catch that. Could you say it again?" : "Yes, I'm still here."),
  thanksDone: 'Wonderful, thank you so much for your help. Goodbye!',
  thanksAnswer: "Thank you, that's very helpful. Goodbye!",
  refusedBye: 'I understand. Thank you for your time anyway. Goodbye!',
  goodbye: 'Thank you, goodbye!',
  giveUp: "I'm sorry, I don't think I can get any further today. Thank you for your time. Goodbye!",
  acceptTime: (w) => `${w.charAt(0).toUpperCase()}${w.slice(1)} works for me, thank you.`,
  noOfferedTimeFree: 'Those times are taken in my calendar, unfortunately. Do you have anything else?',
  voicemail: (s, who, phone) =>
    `Hello, this is a message from an assistant${who ? ` calling on behalf of ${who}` : ''}. ${s}${
      phone ? ` You can call back on ${phone}.` : ''
    } Thank you, goodbye.`,
};

const sv: Phrases = {
  inbound: {
    hello: 'Hej, tack för att du ringer. Vad kan jag hjälpa dig med?',
    askName: 'Absolut. Vad är ditt namn?',
    noted: 'Tack. Jag har antecknat det, och vi återkommer för att bekräfta. Är det något mer jag kan hjälpa till med?',
    notedMore: 'Det har jag också antecknat. Något mer?',
  },
  hello: (who) => (who ? `Hej, det här är en assistent som ringer för ${who}s räkning.` : 'Hej, det här är en assistent som ringer.'),
  callingTo: (c) => `Jag ringer för att ${c}.`,
  callingAbout: (t) => `Jag ringer angående följande: ${t}.`,
  taskVerbs:
    /^(bekräfta|flytta|avboka|boka|fråga|kolla|kontrollera|ta reda|beställa|ändra|meddela|påminna|höra|be|säga|få|omboka)(?![a-zåäö])/i,
  // "min bokning" → "bokningen", "mitt möte" → "mötet": the definite form instead of the client's "my".
  thirdPerson: (c) =>
    c
      .replace(/\bmin\s+([a-zåäö]+)/gi, (_, n: string) => n + (/[ae]$/.test(n) ? 'n' : 'en'))
      .replace(/\bmitt\s+([a-zåäö]+)/gi, (_, n: string) => n + (/e$/.test(n) ? 't' : 'et'))
      .replace(/\bmina\s+/gi, ''),
  itIs: (v) => `Det är ${v}.`,
  referenceIs: (r) => `Bokningsnumret är ${r}.`,
  whenIs: (w) => `Den är ${w}.`,
  whoIAm: (role, who) => `Jag är ${role ?? 'en assistent'}${who ? ` och ringer för ${who}s räkning` : ''}.`,
  dontHave: 'Tyvärr har jag inte den uppgiften.',
  cannotShare: 'Tyvärr kan jag inte lämna ut det.',
  keypadOffer: 'Jag kan inte säga det högt, men jag kan knappa in det på telefonen om det går bra.',
  restate: (s) => `Förlåt, jag förklarar. ${s}`,
  stillHere: (missed) => (missed ? 'Ja, jag är kvar. Förlåt, jag hörde inte riktigt. Kan du säga det igen?' : 'Ja, jag är kvar.'),
  thanksDone: 'Toppen, tack så mycket för hjälpen. Hej då!',
  thanksAnswer: 'Tack, det var till stor hjälp. Hej då!',
  refusedBye: 'Jag förstår. Tack ändå för hjälpen. Hej då!',
  goodbye: 'Tack, hej då!',
  giveUp: 'Tyvärr tror jag inte att jag kommer längre i dag. Tack för din tid. Hej då!',
  acceptTime: (w) => `${w.charAt(0).toUpperCase()}${w.slice(1)} passar bra, tack.`,
  noOfferedTimeFree: 'De tiderna är tyvärr upptagna i min kalender. Har ni någon annan tid?',
  voicemail: (s, who, phone) =>
    `Hej, det här är ett meddelande från en assistent${who ? ` som ringer för ${who}s räkning` : ''}. ${s}${
      phone ? ` Ni kan ringa tillbaka på ${phone}.` : ''
    } Tack, hej då.`,
};

const TABLE: Record<string, Phrases> = { en, sv };

/** The phrase table for a call's language; English for languages without one. */
export function phrasesFor(language: string): Phrases {
  return own(TABLE, language.toLowerCase().slice(0, 2)) ?? en;
}

/** What the samples fill a phrase's blanks with: the kinds of value a brief gives (a task, a name, a time). */
const SAMPLE_TASKS = ['confirm the booking', 'move the booking', 'cancel the booking', 'book a table for two', 'reschedule the appointment', 'check the opening hours', 'order a prescription refill'];

/**
 * Sentences the rules brain says in `language`, its blanks filled with sample values: the offline
 * recogniser's domain language model is built from them (src/speech/language-model.ts), so that a simulated
 * party hears the offline agent's words. A real brief's values (names, tasks) vary; the samples give the
 * model the phrases around them.
 */
export function phraseSamples(language: string): string[] {
  const p = phrasesFor(language);
  const verbs = p.taskVerbs.source.match(/\(([^)]*)\)/)?.[1].split('|') ?? [];
  const out = [
    p.inbound.hello, p.inbound.askName, p.inbound.noted, p.inbound.notedMore,
    p.hello(), p.hello('Alex Smith'), p.callingAbout('the following: a booking'),
    p.itIs('Alex Smith'), p.referenceIs('AB123'), p.whenIs('Tuesday at 7 pm'), p.whoIAm(), p.whoIAm('the patient', 'Alex Smith'),
    p.dontHave, p.cannotShare, p.keypadOffer, p.restate(p.callingTo(SAMPLE_TASKS[0])), p.stillHere(true), p.thanksDone, p.thanksAnswer, p.refusedBye,
    p.goodbye, p.giveUp, p.acceptTime('Thursday at 8 pm'), p.noOfferedTimeFree, p.voicemail(p.callingTo(SAMPLE_TASKS[0]), 'Alex Smith', '+15550123'),
  ];
  for (const t of SAMPLE_TASKS) out.push(p.callingTo(p.thirdPerson(t)));
  // Each verb a task may open with, as the agent says it.
  for (const v of verbs) out.push(p.callingTo(`${v} the booking`));
  return out;
}
