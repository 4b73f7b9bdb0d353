import { own } from '../lib/own.js';

/** The few sentences the engine itself says (not the brain): per language, English as the fallback. */
const GOODBYE: Record<string, string> = {
  en: "I'm sorry, I have to end the call now. Thank you, goodbye.",
  sv: 'Tyvärr måste jag avsluta samtalet nu. Tack, hej då.',
  de: 'Es tut mir leid, ich muss das Gespräch jetzt beenden. Vielen Dank, auf Wiederhören.',
};

export function goodbyeLine(language: string): string {
  return own(GOODBYE, language) ?? GOODBYE.en;
}

/** Said to someone who calls a number no agent answers, before the line drops. */
const NOT_IN_SERVICE: Record<string, string> = {
  en: 'The number you have called is not in service. Goodbye.',
  sv: 'Numret du har ringt är inte i bruk. Hej då.',
  de: 'Die gewählte Rufnummer ist nicht vergeben. Auf Wiederhören.',
};

/** Said to someone who calls while every line is taken (or the server is stopping). */
const ALL_BUSY: Record<string, string> = {
  en: 'All our lines are busy right now. Please call again later. Goodbye.',
  sv: 'Alla våra linjer är upptagna just nu. Försök igen senare. Hej då.',
  de: 'Zurzeit sind alle Leitungen belegt. Bitte rufen Sie später wieder an. Auf Wiederhören.',
};

export function notInServiceLine(language = 'en'): string {
  return own(NOT_IN_SERVICE, language) ?? NOT_IN_SERVICE.en;
}

export function allBusyLine(language = 'en'): string {
  return own(ALL_BUSY, language) ?? ALL_BUSY.en;
}
