/** The few sentences the engine itself says (not the brain): per language, English as the fallback. */
const GOODBYE: Record<string, string> = {
  en: "I'm sorry, I have to end the call now. Thank you, goodbye.",
  sv: 'Tyvärr måste jag avsluta samtalet nu. Tack, hej då.',
  de: 'Es tut mir leid, ich muss das Gespräch jetzt beenden. Vielen Dank, auf Wiederhören.',
};

export function goodbyeLine(language: string): string {
  return GOODBYE[language] ?? GOODBYE.en;
}
