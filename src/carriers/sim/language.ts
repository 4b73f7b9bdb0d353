/**
 * The few words a simulated person must recognise whatever the scenario: goodbyes, "I can't tell you",
 * and days and times (for `{when}` in a reply). Scenario-specific words (intents, facts) live in the
 * scenario files. Languages other than English and Swedish fall back to English.
 */

interface Words {
  goodbye: RegExp;
  cannot: RegExp;
  thanks: RegExp;
  when: RegExp;
}

const EN: Words = {
  goodbye: /\b(good ?bye|bye)\b/i,
  cannot: /\b(don'?t|do not|can'?t|cannot|can not|unable|not able|won'?t|not allowed)\b.*\b(have|know|share|give|say|tell|remember)\b|\bunfortunately\b|\bi'?m afraid\b|\bno idea\b/i,
  thanks: /\b(thanks|thank you)\b/i,
  when:
    /\b((?:on |this |next )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tomorrow)(?:,? (?:the )?\d{1,2}(?:st|nd|rd|th)?(?: of \w+)?)?(?:,? (?:at|from) \d{1,2}(?:[:.]\d{2})? ?(?:am|pm|a\.m\.|p\.m\.)?)?)/i,
};

const SV: Words = {
  goodbye: /(hej ?då|adjö|ha det (bra|gott)|vi hörs)/i,
  cannot: /\b(har inte|vet inte|kan inte|får inte|tyvärr|kommer inte ihåg)\b/i,
  thanks: /\b(tack)\b/i,
  when: /\b((?:på |nästa )?(?:måndag|tisdag|onsdag|torsdag|fredag|lördag|söndag|idag|i dag|imorgon|i morgon)(?: den \d{1,2}(?: \w+)?)?(?:,? (?:klockan|kl\.?) \d{1,2}(?:[:.]\d{2})?)?)/i,
};

export function wordsFor(language: string): Words {
  return language.toLowerCase().startsWith('sv') ? SV : EN;
}

export function norm(text: string): string {
  return text.toLowerCase().replace(/[’]/g, "'");
}

/** The last day/time phrase in `text` (for "I've moved it to {when}"), or undefined. */
export function lastWhen(text: string, language: string): string | undefined {
  const re = new RegExp(wordsFor(language).when.source, 'gi');
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last?.trim();
}
