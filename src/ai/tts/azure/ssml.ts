/**
 * The SSML document Azure speaks (protocols.md §10): the voice, its `mstts:express-as` style and role, and
 * `mstts:backgroundaudio` that Azure mixes under the document's speech itself (one document a request: a
 * sentence, or a reply's first clause).
 */
import type { VoiceChoice } from '../tts.js';

/**
 * XML-escapes text and attribute values, and drops the characters XML 1.0 cannot carry at all. Written
 * here, not taken from a library: five replacements and one character class are the whole job.
 */
export function xmlEscape(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function attrs(pairs: Record<string, string | number | undefined>): string {
  return Object.entries(pairs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');
}

/** The locale of an Azure voice name (`sv-SE-SofieNeural` → `sv-SE`), which `xml:lang` must agree with. */
export function voiceLocale(voice: string): string {
  const m = /^([a-z]{2,3}-[A-Za-z0-9]{2,8})-/.exec(voice);
  return m ? m[1] : 'en-US';
}

/**
 * `text` in `voice`'s SSML. Background audio `volume` is ours 0–1 (as the API takes it) and Azure's 0–100;
 * fades are in milliseconds on both sides.
 */
export function buildSsml(text: string, voice: VoiceChoice): string {
  const bg = voice.backgroundAudio;
  const background = bg
    ? `<mstts:backgroundaudio${attrs({
        src: bg.src,
        volume: bg.volume === undefined ? undefined : Math.round(bg.volume * 100),
        fadein: bg.fadeInMs,
        fadeout: bg.fadeOutMs,
      })}/>`
    : '';
  const body = voice.style || voice.role
    ? `<mstts:express-as${attrs({ style: voice.style, role: voice.role })}>${xmlEscape(text)}</mstts:express-as>`
    : xmlEscape(text);
  return (
    `<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xmlns:mstts="https://www.w3.org/2001/mstts"${attrs({ 'xml:lang': voiceLocale(voice.voice) })}>` +
    background +
    `<voice${attrs({ name: voice.voice })}>${body}</voice>` +
    `</speak>`
  );
}
