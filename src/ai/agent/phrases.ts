/**
 * The few lines the LLM brain says without the model: when the model fails or stays silent, so the call
 * never hangs silent. The opening and the voicemail fallbacks reuse the rules brain's phrases.
 */
import { own } from '../../lib/own.js';

export interface FallbackLines {
  /** First failure in a row. */
  repeat: string;
  /** Second failure in a row. */
  repeatAgain: string;
  /** Third failure in a row: said just before the call is ended with `llm_error`. */
  giveUp: string;
}

const LINES: Record<string, FallbackLines> = {
  en: {
    repeat: 'Sorry, could you repeat that?',
    repeatAgain: "Sorry, I didn't quite catch that. Could you say it again?",
    giveUp: "I'm sorry, I'm having technical problems and have to end the call. Goodbye.",
  },
  sv: {
    repeat: 'Förlåt, kan du upprepa det?',
    repeatAgain: 'Förlåt, jag uppfattade inte riktigt. Kan du säga det igen?',
    giveUp: 'Tyvärr har jag tekniska problem och måste avsluta samtalet. Hej då.',
  },
  de: {
    repeat: 'Entschuldigung, können Sie das wiederholen?',
    repeatAgain: 'Entschuldigung, das habe ich nicht ganz verstanden. Können Sie das noch einmal sagen?',
    giveUp: 'Es tut mir leid, ich habe technische Probleme und muss das Gespräch beenden. Auf Wiederhören.',
  },
  fr: {
    repeat: 'Pardon, pouvez-vous répéter ?',
    repeatAgain: "Pardon, je n'ai pas bien compris. Pouvez-vous le redire ?",
    giveUp: "Je suis désolé, j'ai un problème technique et je dois raccrocher. Au revoir.",
  },
  es: {
    repeat: 'Perdón, ¿puede repetirlo?',
    repeatAgain: 'Perdón, no lo he entendido bien. ¿Puede decirlo otra vez?',
    giveUp: 'Lo siento, tengo problemas técnicos y tengo que terminar la llamada. Adiós.',
  },
  no: {
    repeat: 'Unnskyld, kan du gjenta det?',
    repeatAgain: 'Unnskyld, jeg fikk ikke helt med meg det. Kan du si det igjen?',
    giveUp: 'Beklager, jeg har tekniske problemer og må avslutte samtalen. Ha det.',
  },
  da: {
    repeat: 'Undskyld, kan du gentage det?',
    repeatAgain: 'Undskyld, jeg fangede det ikke helt. Kan du sige det igen?',
    giveUp: 'Beklager, jeg har tekniske problemer og må afslutte opkaldet. Farvel.',
  },
  fi: {
    repeat: 'Anteeksi, voisitteko toistaa?',
    repeatAgain: 'Anteeksi, en aivan kuullut. Voisitteko sanoa sen uudelleen?',
    giveUp: 'Valitettavasti minulla on teknisiä ongelmia ja minun täytyy lopettaa puhelu. Näkemiin.',
  },
};
LINES.nb = LINES.no;

/** The fallback lines for a call's language; English for languages without a table. */
export function fallbackLines(language: string): FallbackLines {
  return own(LINES, language.toLowerCase().slice(0, 2)) ?? LINES.en;
}
