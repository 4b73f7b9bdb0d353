/**
 * A streaming parser for 004's LLM command protocol: `[[command:parameter]]` embedded in the model's text
 * (`[[press:123]]`, `[[transfer:+15551234567]]`, `[[end_call]]`, `[[request_user:question]]`). Text arrives
 * in arbitrary chunks, so a command may be split anywhere (`[[pre` + `ss:12` + `3]]`); the parser holds back
 * only what could still be the start of a command, so everything else can be spoken at once and a command
 * is never spoken. Beyond 004 it knows `[[wait]]`, `[[human]]` and `[[keypad:field]]` (see prompt.ts).
 */

export const INLINE_COMMANDS = ['press', 'transfer', 'end_call', 'request_user', 'wait', 'human', 'keypad'] as const;
export type InlineCommandName = (typeof INLINE_COMMANDS)[number];

export interface InlineCommand {
  name: InlineCommandName;
  param?: string;
}

export type InlinePiece = { type: 'text'; text: string } | { type: 'command'; command: InlineCommand };

/** A command longer than this is not one (an unclosed `[[`): it is dropped rather than held forever. */
const MAX_COMMAND_CHARS = 500;

/**
 * @example
 * const p = new InlineCommandParser();
 * p.push('Pressing one. [[pre'); // [{ type: 'text', text: 'Pressing one. ' }]
 * p.push('ss:1]] Done');         // [{ type: 'command', command: { name: 'press', param: '1' } }, { type: 'text', text: ' Done' }]
 * p.flush();                     // []
 */
export class InlineCommandParser {
  private buf = '';

  /** Feeds a chunk; returns the text that is now certainly spoken and the commands completed, in order. */
  push(chunk: string): InlinePiece[] {
    this.buf += chunk;
    return this.drain(false);
  }

  /** Ends the stream: a trailing lone `[` is spoken; an unclosed `[[…` is dropped. */
  flush(): InlinePiece[] {
    const out = this.drain(true);
    this.buf = '';
    return out;
  }

  private drain(final: boolean): InlinePiece[] {
    const out: InlinePiece[] = [];
    const text = (t: string) => {
      if (!t) return;
      const last = out[out.length - 1];
      if (last?.type === 'text') last.text += t;
      else out.push({ type: 'text', text: t });
    };
    for (;;) {
      const open = this.buf.indexOf('[[');
      if (open < 0) {
        // A trailing `[` may become `[[` with the next chunk: hold it back until we know.
        if (!final && this.buf.endsWith('[')) {
          text(this.buf.slice(0, -1));
          this.buf = '[';
        } else {
          text(this.buf);
          this.buf = '';
        }
        return out;
      }
      text(this.buf.slice(0, open));
      this.buf = this.buf.slice(open);
      const close = this.buf.indexOf(']]', 2);
      if (close < 0) {
        if (final || this.buf.length > MAX_COMMAND_CHARS) this.buf = ''; // never closed: not speakable either
        return out;
      }
      const cmd = parseCommand(this.buf.slice(2, close));
      if (cmd) out.push({ type: 'command', command: cmd });
      this.buf = this.buf.slice(close + 2);
    }
  }
}

/** `press:123` → `{ name: 'press', param: '123' }`; null for a name we do not know (dropped silently). */
export function parseCommand(body: string): InlineCommand | null {
  const colon = body.indexOf(':');
  const name = (colon < 0 ? body : body.slice(0, colon)).trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (!(INLINE_COMMANDS as readonly string[]).includes(name)) return null;
  const param = colon < 0 ? undefined : body.slice(colon + 1).trim();
  return param ? { name: name as InlineCommandName, param } : { name: name as InlineCommandName };
}
