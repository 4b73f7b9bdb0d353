/**
 * Scenario test files (`scenarios/tests/*.yaml`): a list of cases, each a CallMyCall start-call (`call:`)
 * and what must be true once the call has ended (`expect:`). Parsed and checked here; every error names
 * the file, the case and the field. The format is documented in scenarios/README.md.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse, YAMLParseError } from 'yaml';
import { canonicalStartCall, type CallRequest, type StartCallFields } from '../../core/calls/request.js';
import { SwitchboardError } from '../../core/errors.js';
import { CALL_STATES, type CallState } from '../../core/calls/states.js';
import { ScenarioError, scenarioFrom, type Scenario } from '../../carriers/sim/scenarios.js';

/** A text check: `said`/`heard` match when some line matches, `never_said` when no line does. */
export interface TextPattern {
  /** As written in the file (for reports). */
  source: string;
  test(line: string): boolean;
}

export interface Expectations {
  status?: CallState;
  goal_completed?: boolean;
  outcome?: string;
  answered_by?: string | null;
  end_reason?: string | null;
  pressed?: string;
  transferred?: boolean;
  said?: TextPattern[];
  never_said?: TextPattern[];
  heard?: TextPattern[];
}

export interface ScenarioTestCase {
  /** The file it came from, as given. */
  file: string;
  name: string;
  call: StartCallFields;
  /** The canonical request (checked at load time, so a bad field is a bad file, not a failed case). */
  request: CallRequest;
  expect: Expectations;
  /**
   * Who answers, given in the case itself (a recorded callee: `switchboard scenarios record`); put on the
   * simulated network for the run at its `number`, which the call must dial.
   */
  callee?: Scenario;
}

export class ScenarioTestFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioTestFileError';
  }
}

/** The start-call fields a case may use (CallMyCall 000/001, every documented spelling). */
const CALL_FIELDS = new Set<string>([
  'phone_number', 'task', 'language', 'tts_provider', 'voice_gender', 'voiceGender', 'openaiVoice', '11labsVoice',
  'elevenLabsVoice', 'elevenLabsModel', 'azureVoice', 'style', 'role', 'azureBackgroundAudio', 'additionalPrompt',
  'additional_prompt', 'record', 'max_duration', 'max_queue_time', 'persona', 'transfer_number', 'from_number',
  'share_policy', 'webhook', 'webhook_events', 'metadata', 'enable_calendar', 'calendar_permissions', 'userOnCall',
  'monitored', 'monitor', 'userPhone', 'user_phone',
]);
const PERSONA_FIELDS = new Set(['name', 'phone', 'personal_security_number', 'address', 'role']);
const SHARE_FIELDS = new Set(['name_voice', 'phone_voice', 'phone_dtmf', 'pnr_voice', 'pnr_dtmf']);
const NUMBER_FIELDS = new Set(['max_duration', 'max_queue_time']);
const BOOLEAN_FIELDS = new Set(['record', 'enable_calendar', 'userOnCall', 'monitored', 'monitor']);
const OBJECT_FIELDS = new Set(['persona', 'share_policy', 'metadata', 'calendar_permissions', 'azureBackgroundAudio']);

const EXPECT_FIELDS = ['status', 'goal_completed', 'outcome', 'answered_by', 'end_reason', 'pressed', 'transferred', 'said', 'never_said', 'heard'] as const;
const TERMINAL: readonly string[] = CALL_STATES.filter((s) => !['queued', 'ringing', 'in_progress'].includes(s));

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `/body/flags` is a regular expression as written. */
function slashRegex(s: string): RegExp | null {
  const m = /^\/(.+)\/([a-z]*)$/s.exec(s);
  return m ? new RegExp(m[1], m[2]) : null;
}

/** A case-insensitive regular expression (`said`, `heard`); `/…/flags` to choose the flags. */
function regexPattern(s: string): TextPattern {
  const re = slashRegex(s) ?? new RegExp(s, 'i');
  return { source: s, test: (line) => re.test(line) };
}

/** Spaces, dashes, dots, brackets and plus signs between characters do not hide a number: "070-123 45 67" contains "0701234567". */
const squeeze = (s: string) => s.toLowerCase().replace(/[\s\-.()/+]+/g, '');

/** A literal, case-insensitive and blind to separators (`never_said`); `/…/flags` for a regular expression. */
function literalPattern(s: string): TextPattern {
  const re = slashRegex(s);
  if (re) return { source: s, test: (line) => re.test(line) };
  const plain = s.toLowerCase();
  const squeezed = squeeze(s);
  return { source: s, test: (line) => line.toLowerCase().includes(plain) || (squeezed.length > 0 && squeeze(line).includes(squeezed)) };
}

/** Parses and checks one file's text. `file` is only used in messages and results. */
export function parseScenarioTests(text: string, file: string): ScenarioTestCase[] {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String((e as Error)?.message ?? e);
    throw new ScenarioTestFileError(`${file}: not valid YAML: ${msg}`);
  }
  const list = isObject(doc) && 'cases' in doc ? doc.cases : doc;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ScenarioTestFileError(`${file}: expected a list of test cases (each with name, call and expect)`);
  }
  const names = new Set<string>();
  return list.map((raw, i) => {
    const where = (field?: string) => {
      const name = isObject(raw) && typeof raw.name === 'string' ? ` "${raw.name}"` : '';
      return `${file}: case ${i + 1}${name}${field ? `: ${field}` : ''}`;
    };
    const fail = (field: string | undefined, msg: string): never => {
      throw new ScenarioTestFileError(`${where(field)}: ${msg}`);
    };
    if (!isObject(raw)) return fail(undefined, 'expected a mapping with name, call and expect');
    for (const k of Object.keys(raw)) if (!['name', 'call', 'expect', 'callee'].includes(k)) fail(k, 'unknown field (expected name, call, expect, callee)');
    if (typeof raw.name !== 'string' || !raw.name.trim()) fail('name', 'required, a non-empty string');
    const name = (raw.name as string).trim();
    if (names.has(name)) fail('name', 'another case in this file has the same name');
    names.add(name);

    const call = checkCall(raw.call, fail);
    let request: CallRequest;
    try {
      request = canonicalStartCall(call);
    } catch (e) {
      if (e instanceof SwitchboardError) return fail(`call.${String(e.details.field ?? '')}`, e.message);
      throw e;
    }
    const expect = checkExpect(raw.expect, fail);
    if (raw.callee === undefined) return { file, name, call, request, expect };
    let callee: Scenario;
    try {
      callee = scenarioFrom(raw.callee, file, `case ${i + 1} callee.`);
    } catch (e) {
      if (e instanceof ScenarioError) throw new ScenarioTestFileError(e.message);
      throw e;
    }
    if (callee.number !== call.phone_number) fail('callee.number', 'must be the number the call dials (call.phone_number)');
    return { file, name, call, request, expect, callee };
  });
}

function checkCall(v: unknown, fail: (field: string | undefined, msg: string) => never): StartCallFields {
  if (!isObject(v)) return fail('call', 'required, a mapping of start-call fields (phone_number, task, …)');
  for (const [k, val] of Object.entries(v)) {
    const f = `call.${k}`;
    if (!CALL_FIELDS.has(k)) fail(f, 'unknown start-call field');
    if (val === null || val === undefined) fail(f, 'must have a value');
    if (NUMBER_FIELDS.has(k) && (typeof val !== 'number' || !Number.isFinite(val) || val < 0)) fail(f, 'expected a number of seconds');
    else if (BOOLEAN_FIELDS.has(k) && typeof val !== 'boolean') fail(f, 'expected true or false');
    else if (OBJECT_FIELDS.has(k) && !isObject(val)) fail(f, 'expected a mapping');
    else if (k === 'webhook_events' && (!Array.isArray(val) || val.some((x) => typeof x !== 'string'))) fail(f, 'expected a list of event names');
    else if (!NUMBER_FIELDS.has(k) && !BOOLEAN_FIELDS.has(k) && !OBJECT_FIELDS.has(k) && k !== 'webhook_events' && typeof val !== 'string') {
      fail(f, 'expected a string (quote phone numbers: "+15550100")');
    }
  }
  if (typeof v.phone_number !== 'string') fail('call.phone_number', 'required, an E.164 number such as "+15550100"');
  if (typeof v.task !== 'string') fail('call.task', 'required, what the agent should get done');
  if (isObject(v.persona)) {
    for (const [k, val] of Object.entries(v.persona)) {
      if (!PERSONA_FIELDS.has(k)) fail(`call.persona.${k}`, `unknown persona field (expected ${[...PERSONA_FIELDS].join(', ')})`);
      if (typeof val !== 'string') fail(`call.persona.${k}`, 'expected a string (quote numbers)');
    }
  }
  if (isObject(v.share_policy)) {
    for (const [k, val] of Object.entries(v.share_policy)) {
      if (!SHARE_FIELDS.has(k)) fail(`call.share_policy.${k}`, `unknown share_policy field (expected ${[...SHARE_FIELDS].join(', ')})`);
      if (typeof val !== 'boolean') fail(`call.share_policy.${k}`, 'expected true or false');
    }
  }
  return v as unknown as StartCallFields;
}

function checkExpect(v: unknown, fail: (field: string | undefined, msg: string) => never): Expectations {
  if (!isObject(v)) return fail('expect', `required, a mapping with any of ${EXPECT_FIELDS.join(', ')}`);
  const out: Expectations = {};
  for (const [k, val] of Object.entries(v)) {
    const f = `expect.${k}`;
    switch (k as (typeof EXPECT_FIELDS)[number]) {
      case 'status':
        if (typeof val !== 'string' || !TERMINAL.includes(val)) fail(f, `expected one of ${TERMINAL.join(', ')}`);
        out.status = val as CallState;
        break;
      case 'goal_completed':
      case 'transferred':
        if (typeof val !== 'boolean') fail(f, 'expected true or false');
        out[k as 'goal_completed' | 'transferred'] = val as boolean;
        break;
      case 'outcome':
        if (typeof val !== 'string') fail(f, 'expected a string (goal_completed, goal_not_completed, transferred, voicemail, busy, …)');
        out.outcome = val as string;
        break;
      case 'answered_by':
      case 'end_reason':
        if (typeof val !== 'string' && val !== null) fail(f, 'expected a string, or null for none');
        out[k as 'answered_by' | 'end_reason'] = val as string | null;
        break;
      case 'pressed': {
        const s = typeof val === 'number' ? String(val) : val;
        if (typeof s !== 'string' || !/^[0-9*#]*$/.test(s)) fail(f, 'expected the keys pressed, in order, as a quoted string such as "11" ("" for none)');
        out.pressed = s as string;
        break;
      }
      case 'said':
      case 'never_said':
      case 'heard': {
        const items = typeof val === 'string' ? [val] : val;
        if (!Array.isArray(items) || items.length === 0) fail(f, 'expected a list of patterns');
        out[k as 'said'] = (items as unknown[]).map((p, j) => {
          if (typeof p !== 'string' || !p) return fail(`${f}[${j}]`, 'expected a non-empty string');
          try {
            return k === 'never_said' ? literalPattern(p) : regexPattern(p);
          } catch (e) {
            return fail(`${f}[${j}]`, `invalid regular expression: ${(e as Error).message}`);
          }
        });
        break;
      }
      default:
        fail(f, `unknown expectation (expected any of ${EXPECT_FIELDS.join(', ')})`);
    }
  }
  if (Object.keys(out).length === 0) fail('expect', 'names nothing to check');
  return out;
}

/** Reads and checks files; each may be a folder, meaning its `*.yaml`/`*.yml` files. */
export async function loadScenarioTests(files: string[]): Promise<ScenarioTestCase[]> {
  const cases: ScenarioTestCase[] = [];
  for (const given of files) {
    let stat;
    try {
      stat = await fs.stat(given);
    } catch {
      throw new ScenarioTestFileError(`${given}: no such file`);
    }
    const paths = stat.isDirectory()
      ? (await fs.readdir(given)).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(given, f))
      : [given];
    for (const p of paths) cases.push(...parseScenarioTests(await fs.readFile(p, 'utf8'), p));
  }
  return cases;
}
