/**
 * Scenario files: who answers which number on the simulated phone network, and how. One YAML file holds
 * one scenario (a mapping) or several (a sequence of mappings); the format is described in
 * scenarios/README.md. Structure is checked with TypeBox schemas (one per kind, so an error names the
 * exact field rather than a failed union), then cross-references (menu targets, duplicate numbers) by hand.
 *
 * Parsed with js-yaml's core schema (YAML 1.2's plain types, as the `yaml` package parses by default): every start
 * of the simulated network reads all of them, and js-yaml took 12–22 ms where `yaml` took 62–76 ms for the
 * shipped files, the same values (docs/performance.md §16).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import yaml from 'js-yaml';
import { isE164 } from '../../lib/phone.js';

const Str = Type.String({ minLength: 1 });
const Seconds = Type.Number({ minimum: 0 });

const Detail = Type.Object(
  {
    key: Str,
    question: Str,
    /** A regular expression the answer must match (case-insensitive); asked once more if it does not. */
    expect: Type.Optional(Str),
    retry: Type.Optional(Str),
  },
  { additionalProperties: false },
);

const Intent = Type.Object(
  {
    intent: Type.Union([Type.Literal('confirm'), Type.Literal('move'), Type.Literal('cancel'), Type.Literal('book'), Type.Literal('ask')]),
    keywords: Type.Array(Str, { minItems: 1 }),
    /** What the person says once every detail is known. `{when}` is replaced by the day/time the caller named. */
    reply: Str,
    /** `decline`: the reply refuses (e.g. fully booked); the person then waits for a goodbye. */
    outcome: Type.Optional(Type.Union([Type.Literal('done'), Type.Literal('decline')])),
    /** Used for `{when}` when the caller named no day or time. */
    whenDefault: Type.Optional(Str),
  },
  { additionalProperties: false },
);

const Fact = Type.Object({ keywords: Type.Array(Str, { minItems: 1 }), answer: Str }, { additionalProperties: false });

const Person = Type.Object(
  {
    name: Type.Optional(Str),
    greeting: Str,
    details: Type.Optional(Type.Array(Detail)),
    intents: Type.Array(Intent, { minItems: 1 }),
    facts: Type.Optional(Type.Array(Fact)),
    lines: Type.Object(
      {
        /** When nothing the caller said was understood. */
        pardon: Str,
        /** When the caller cannot give a detail; the person then says goodbye and hangs up. */
        cannotHelp: Str,
        stillThere: Str,
        goodbye: Str,
      },
      { additionalProperties: false },
    ),
    replyDelaySeconds: Type.Optional(Seconds),
    silenceSeconds: Type.Optional(Seconds),
  },
  { additionalProperties: false },
);

/** A keypad-entry step: asks for several digits (an account or identity number), ended by `#`. */
const Collect = Type.Object(
  {
    prompt: Str,
    /** Where to go once the digits are in: a menu, `queue` or `hangup`. */
    then: Str,
    /** Said once the digits are in (e.g. "Thank you."). */
    say: Type.Optional(Str),
    /** Entry ends by itself at this many digits (without `#`). */
    maxDigits: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Fewer digits than this count as an invalid entry: `invalidChoice`, and the prompt again. */
    minDigits: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Silence before the prompt is repeated, and after the last digit before the entry counts as done. Default 6. */
    timeoutSeconds: Type.Optional(Seconds),
    /** Times the prompt is repeated after silence or an invalid entry; then `noInput` and hang up. Default 2. */
    repeats: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const MenuTarget = Type.Union([
  Str,
  Type.Object({ say: Str, then: Type.Optional(Str) }, { additionalProperties: false }),
  Type.Object({ collect: Collect }, { additionalProperties: false }),
]);

const Menu = Type.Object(
  {
    prompt: Str,
    options: Type.Record(Type.String({ pattern: '^[0-9*#]$' }), MenuTarget),
    timeoutSeconds: Type.Optional(Seconds),
    repeats: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const Ivr = Type.Object(
  {
    welcome: Str,
    start: Str,
    menus: Type.Record(Type.String(), Menu),
    invalidChoice: Str,
    noInput: Str,
    queue: Type.Object(
      {
        entry: Str,
        waitSeconds: Seconds,
        holdEverySeconds: Type.Number({ minimum: 1 }),
        holdMessages: Type.Array(Str, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    person: Person,
  },
  { additionalProperties: false },
);

const Voicemail = Type.Object(
  { greeting: Str, maxMessageSeconds: Type.Number({ minimum: 1 }), savedLine: Type.Optional(Str) },
  { additionalProperties: false },
);

/** A scripted person who calls one of our numbers (`SimCarrier.placeInbound`). */
const Caller = Type.Object(
  {
    name: Type.Optional(Str),
    /** Our number it rings when `placeInbound` names none. */
    calls: Type.Optional(Str),
    /** What the caller wants, said after the agent's greeting. */
    request: Str,
    /** Answers to the agent's questions: the first whose keyword appears in what the agent said. */
    facts: Type.Optional(Type.Array(Fact)),
    /** Words of the agent that mean the request is taken care of; the caller then says goodbye and hangs up. */
    done: Type.Array(Str, { minItems: 1 }),
    lines: Type.Object(
      {
        /** Said first when the agent says nothing for `greetingWaitSeconds` after answering. */
        hello: Str,
        /** A question of the agent the caller has no fact for. */
        pardon: Str,
        stillThere: Str,
        goodbye: Str,
      },
      { additionalProperties: false },
    ),
    greetingWaitSeconds: Type.Optional(Seconds),
    replyDelaySeconds: Type.Optional(Seconds),
    silenceSeconds: Type.Optional(Seconds),
  },
  { additionalProperties: false },
);

/**
 * A recorded callee replayed (`switchboard scenarios record`, `POST /v1/calls/:callSid/scenario`): the
 * callee's lines of a finished call, in turns, each said when the agent does what it did before it in the
 * recording — answers the call, speaks, or presses the same keys. Keys other than the recorded ones get
 * `lines.pardon`, so a changed agent that presses differently is exposed.
 */
const ReplayTurn = Type.Object(
  {
    /** What starts the turn: the call being answered, the agent's next words, or the agent's keys (`digits`). */
    after: Type.Union([Type.Literal('answer'), Type.Literal('speech'), Type.Literal('digits')]),
    digits: Type.Optional(Type.String({ pattern: '^[0-9*#]+$' })),
    /** Said one after another. */
    say: Type.Array(Str, { minItems: 1 }),
  },
  { additionalProperties: false },
);

const Replay = Type.Object(
  {
    /** The recorded call (its sid), for people reading the file. */
    source: Type.Optional(Str),
    turns: Type.Array(ReplayTurn, { minItems: 1 }),
    /** The callee put the phone down after the last turn (as in the recording). */
    hangup: Type.Optional(Type.Boolean()),
    lines: Type.Object({ pardon: Str, stillThere: Str, goodbye: Str }, { additionalProperties: false }),
    replyDelaySeconds: Type.Optional(Seconds),
    silenceSeconds: Type.Optional(Seconds),
  },
  { additionalProperties: false },
);

const common = {
  number: Str,
  name: Str,
  language: Str,
  description: Str,
  /** Seconds of ringing before the party answers (or the network gives up). */
  ringSeconds: Type.Optional(Seconds),
  /** Speaking pace of the party and of the agent on this line. */
  wordsPerSecond: Type.Optional(Type.Number({ minimum: 0.1 })),
  /**
   * When this number is the user's phone of a user-on-call session: what the user says to the target once
   * both are in the room, a line every `gapSeconds` (default 1) after the previous one, until the agent
   * takes over or the user leaves.
   */
  asUser: Type.Optional(
    Type.Object({ lines: Type.Array(Str, { minItems: 1 }), gapSeconds: Type.Optional(Seconds) }, { additionalProperties: false }),
  ),
};

const KINDS = {
  human: Type.Object(
    {
      kind: Type.Literal('human'),
      ...common,
      person: Person,
      /**
       * What the person does when the network's caller-ID verification call rings: types the code
       * (`types_code`: the number becomes verified) or not (`ignores`, the default: verification fails).
       */
      verification: Type.Optional(Type.Union([Type.Literal('types_code'), Type.Literal('ignores')])),
    },
    { additionalProperties: false },
  ),
  ivr: Type.Object({ kind: Type.Literal('ivr'), ...common, ivr: Ivr }, { additionalProperties: false }),
  voicemail: Type.Object({ kind: Type.Literal('voicemail'), ...common, voicemail: Voicemail }, { additionalProperties: false }),
  busy: Type.Object({ kind: Type.Literal('busy'), ...common }, { additionalProperties: false }),
  no_answer: Type.Object({ kind: Type.Literal('no_answer'), ...common }, { additionalProperties: false }),
  invalid: Type.Object({ kind: Type.Literal('invalid'), ...common }, { additionalProperties: false }),
  caller: Type.Object({ kind: Type.Literal('caller'), ...common, caller: Caller }, { additionalProperties: false }),
  replay: Type.Object({ kind: Type.Literal('replay'), ...common, replay: Replay }, { additionalProperties: false }),
} satisfies Record<string, TSchema>;

export type PersonSpec = Static<typeof Person>;
export type IvrSpec = Static<typeof Ivr>;
export type MenuSpec = Static<typeof Menu>;
export type CollectSpec = Static<typeof Collect>;
export type VoicemailSpec = Static<typeof Voicemail>;
export type CallerSpec = Static<typeof Caller>;
export type ReplaySpec = Static<typeof Replay>;
export type ScenarioKind = keyof typeof KINDS;
export type Scenario = { [K in ScenarioKind]: Static<(typeof KINDS)[K]> }[ScenarioKind] & {
  /** The file the scenario came from (for messages). */
  file: string;
};

/** A scenario file that cannot be used; `file` and `field` say where. */
export class ScenarioError extends Error {
  readonly code = 'SB_ERR_SCENARIO_INVALID';
  constructor(
    readonly file: string,
    readonly field: string,
    detail: string,
  ) {
    super(`${file}: ${field}: ${detail}`);
    this.name = 'ScenarioError';
  }
}

/** Parses and validates the scenarios in one YAML text. */
export function parseScenarios(text: string, file: string): Scenario[] {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch (err) {
    throw new ScenarioError(file, '(file)', `not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const items = Array.isArray(doc) ? doc : [doc];
  return items.map((item, i) => scenarioFrom(item, file, Array.isArray(doc) ? `[${i}]` : ''));
}

/**
 * Checks one scenario given as a value (a parsed mapping); `prefix` goes before every field in messages
 * (a scenario inside another file: a scenario test case's `callee`).
 */
export function scenarioFrom(item: unknown, file: string, prefix = ''): Scenario {
  const at = (p: string) => prefix + p;
  if (!item || typeof item !== 'object') throw new ScenarioError(file, at('(scenario)'), 'expected a mapping');
  const kind = (item as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !(kind in KINDS)) {
    throw new ScenarioError(file, at('kind'), `expected one of ${Object.keys(KINDS).join(', ')}`);
  }
  const schema = KINDS[kind as ScenarioKind];
  const first = Value.Errors(schema, item).First();
  if (first) {
    const field = first.path.replace(/^\//, '').replace(/\//g, '.') || '(scenario)';
    throw new ScenarioError(file, at(field), first.message.toLowerCase());
  }
  const s = { ...(item as object), file } as Scenario;
  if (!isE164(s.number)) throw new ScenarioError(file, at('number'), 'expected an E.164 number such as +15550100');
  if (s.kind === 'ivr') checkIvr(s.ivr, file, at);
  if (s.kind === 'caller' && s.caller.calls !== undefined && !isE164(s.caller.calls)) {
    throw new ScenarioError(file, at('caller.calls'), 'expected an E.164 number such as +15550170');
  }
  if (s.kind === 'replay') {
    s.replay.turns.forEach((t, j) => {
      if ((t.after === 'digits') !== (t.digits !== undefined)) throw new ScenarioError(file, at(`replay.turns.${j}.digits`), 'required with after: digits, and only then');
    });
  }
  for (const person of s.kind === 'human' ? [s.person] : s.kind === 'ivr' ? [s.ivr.person] : []) {
    const base = s.kind === 'ivr' ? 'ivr.person' : 'person';
    person.details?.forEach((d, j) => {
      if (d.expect) checkRegex(d.expect, file, at(`${base}.details.${j}.expect`));
    });
  }
  return s;
}

function checkRegex(re: string, file: string, field: string): void {
  try {
    new RegExp(re, 'i');
  } catch {
    throw new ScenarioError(file, field, 'not a valid regular expression');
  }
}

const SPECIAL_TARGETS = new Set(['queue', 'hangup']);

function checkIvr(ivr: IvrSpec, file: string, at: (p: string) => string): void {
  const known = (t: string) => SPECIAL_TARGETS.has(t) || t in ivr.menus;
  if (!(ivr.start in ivr.menus)) throw new ScenarioError(file, at('ivr.start'), `no menu named "${ivr.start}"`);
  for (const [name, menu] of Object.entries(ivr.menus)) {
    for (const [key, target] of Object.entries(menu.options)) {
      const c = typeof target === 'object' && 'collect' in target ? target.collect : undefined;
      if (c?.minDigits !== undefined && c.maxDigits !== undefined && c.minDigits > c.maxDigits) {
        throw new ScenarioError(file, at(`ivr.menus.${name}.options.${key}.collect.minDigits`), 'must not be more than maxDigits');
      }
      const t = typeof target === 'string' ? target : 'collect' in target ? target.collect.then : target.then;
      if (t !== undefined && !known(t)) {
        throw new ScenarioError(file, at(`ivr.menus.${name}.options.${key}`), `"${t}" is not a menu, "queue" or "hangup"`);
      }
    }
  }
}

/** Loads every `*.yaml` / `*.yml` file in `dir`, sorted by number. Numbers must be unique. */
export async function loadScenarios(dir: string): Promise<Scenario[]> {
  const files = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => join(dir, n));
  // Read at once, parsed in order (one file after another was a wait per file at every start).
  const texts = await Promise.all(files.map((file) => readFile(file, 'utf8')));
  const all: Scenario[] = [];
  const seen = new Map<string, string>();
  for (const [i, file] of files.entries()) {
    for (const s of parseScenarios(texts[i], file)) {
      const prev = seen.get(s.number);
      if (prev) throw new ScenarioError(file, 'number', `${s.number} is already used in ${prev}`);
      seen.set(s.number, file);
      all.push(s);
    }
  }
  return all.sort((a, b) => a.number.localeCompare(b.number));
}
