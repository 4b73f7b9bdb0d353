import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData } from '../ui';

interface SimNumber {
  number: string;
  name: string;
  kind: string;
  description?: string;
}

const SHARE: Array<[string, string]> = [
  ['name_voice', 'Say my name'],
  ['phone_voice', 'Say my phone number'],
  ['phone_dtmf', 'Type my phone number on the keypad'],
  ['pnr_voice', 'Say my personal number'],
  ['pnr_dtmf', 'Type my personal number on the keypad'],
];

/** POST /v1/start-call with the fields people use most; the simulated network's numbers are offered. */
export function StartCallPage() {
  const sims = useData(async () => (await api<{ numbers: SimNumber[] }>('GET', '/dashboard/api/simulated-numbers')).numbers);
  const [to, setTo] = useState('');
  const [task, setTask] = useState('');
  const [language, setLanguage] = useState('en');
  const [persona, setPersona] = useState({ name: '', phone: '', role: '' });
  const [share, setShare] = useState<Record<string, boolean>>({});
  const [webhook, setWebhook] = useState('');
  const [userOnCall, setUserOnCall] = useState(false);
  const [userPhone, setUserPhone] = useState('');
  const [record, setRecord] = useState(false);
  const { busy, message, run } = useAction();
  const callable = (sims.data ?? []).filter((s) => s.kind !== 'caller');

  const submit = (e: Event) => {
    e.preventDefault();
    const personaFields = Object.fromEntries(Object.entries(persona).filter(([, v]) => v.trim()));
    const body = {
      phone_number: to.trim(),
      task,
      language: language.trim() || undefined,
      ...(Object.keys(personaFields).length ? { persona: personaFields } : {}),
      ...(Object.keys(share).length ? { share_policy: share } : {}),
      ...(webhook.trim() ? { webhook: webhook.trim() } : {}),
      ...(userOnCall ? { userOnCall: true, userPhone: userPhone.trim() } : {}),
      ...(record ? { record: true } : {}),
    };
    void run(async () => {
      const r = await api<{ sid: string }>('POST', '/v1/start-call', body);
      location.hash = `#/calls/${encodeURIComponent(r.sid)}`;
    });
  };

  return (
    <Page title="Start a call">
      <form onSubmit={submit} class="wide">
        <Field label="Phone number" hint="E.164, e.g. +15550100">
          {(id, hint) => (
            <input id={id} aria-describedby={hint} type="tel" list="sim-numbers" required value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          )}
        </Field>
        <datalist id="sim-numbers">
          {callable.map((s) => (
            <option key={s.number} value={s.number}>
              {s.name}
            </option>
          ))}
        </datalist>
        <ErrorText error={sims.error} />
        {callable.length > 0 && (
          <fieldset>
            <legend>Simulated numbers</legend>
            <ul class="sims">
              {callable.map((s) => (
                <li key={s.number}>
                  <button type="button" class="link" aria-label={`Call ${s.name} (${s.number})`} onClick={() => setTo(s.number)}>
                    {s.number} · {s.name}
                  </button>
                  {s.description && <small> {s.description}</small>}
                </li>
              ))}
            </ul>
          </fieldset>
        )}
        <Field label="Task" hint="What the agent should get done on the call">
          {(id, hint) => <textarea id={id} aria-describedby={hint} required rows={4} value={task} onInput={(e) => setTask(e.currentTarget.value)} />}
        </Field>
        <Field label="Language" hint="e.g. en, sv, de">
          {(id, hint) => <input id={id} aria-describedby={hint} value={language} onInput={(e) => setLanguage(e.currentTarget.value)} />}
        </Field>
        <fieldset>
          <legend>Persona (who the agent calls for)</legend>
          <Field label="Name">{(id) => <input id={id} value={persona.name} onInput={(e) => setPersona({ ...persona, name: e.currentTarget.value })} />}</Field>
          <Field label="Phone">{(id) => <input id={id} type="tel" value={persona.phone} onInput={(e) => setPersona({ ...persona, phone: e.currentTarget.value })} />}</Field>
          <Field label="Role">{(id) => <input id={id} value={persona.role} onInput={(e) => setPersona({ ...persona, role: e.currentTarget.value })} />}</Field>
        </fieldset>
        <fieldset>
          <legend>Share policy (what the agent may give out)</legend>
          {SHARE.map(([k, label]) => (
            <label class="check" key={k}>
              <input type="checkbox" checked={share[k] === true} onChange={(e) => setShare({ ...share, [k]: e.currentTarget.checked })} /> {label}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>User on call</legend>
          <label class="check">
            <input type="checkbox" checked={userOnCall} onChange={(e) => setUserOnCall(e.currentTarget.checked)} /> I join the call first; the AI takes over when
            I activate it
          </label>
          {userOnCall && (
            <Field label="My phone" hint="The number Switchboard rings to add you to the call">
              {(id, hint) => <input id={id} aria-describedby={hint} type="tel" required value={userPhone} onInput={(e) => setUserPhone(e.currentTarget.value)} />}
            </Field>
          )}
        </fieldset>
        <label class="check">
          <input type="checkbox" checked={record} onChange={(e) => setRecord(e.currentTarget.checked)} /> Record the call
        </label>
        <Field label="Webhook URL (optional)">
          {(id) => <input id={id} type="url" value={webhook} onInput={(e) => setWebhook(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={busy}>
          Start the call
        </button>
        <Notice message={message} />
      </form>
    </Page>
  );
}
