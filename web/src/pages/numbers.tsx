import { useState } from 'preact/hooks';
import { api, unwrap } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData } from '../ui';

/** Our phone numbers and the agent each is assigned to (inbound calls to it reach that agent). */
export function NumbersPage() {
  const list = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/phone-numbers')));
  const agents = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/agents?limit=100')));
  const [number, setNumber] = useState('');
  const [agentId, setAgentId] = useState('');
  const { busy, message, run } = useAction();
  const agentOptions = (agents.data ?? []).map((a) => (
    <option key={a.id} value={a.id}>
      {a.name}
    </option>
  ));
  return (
    <Page title="Phone numbers">
      <ErrorText error={list.error} />
      <table class="cards">
        <caption>Numbers of this organisation</caption>
        <thead>
          <tr>
            <th scope="col">Number</th>
            <th scope="col">Agent</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((n) => (
            <tr key={n.id}>
              <td data-label="Number">{n.phone_number ?? n.number}</td>
              <td data-label="Agent">
                <select
                  aria-label={`Agent for ${n.phone_number ?? n.number}`}
                  value={n.agent_id ?? ''}
                  onChange={(e) => {
                    const v = e.currentTarget.value;
                    void run(() => api('PATCH', `/api/v1/phone-numbers/${n.id}`, { agent_id: v || null }), v ? 'Number assigned' : 'Number unassigned').then(list.reload);
                  }}
                >
                  <option value="">No agent</option>
                  {agentOptions}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Add a number</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', '/api/v1/phone-numbers', { phone_number: number.trim(), ...(agentId ? { agent_id: agentId } : {}) }), 'Number added').then(
            (ok) => ok && (setNumber(''), list.reload()),
          );
        }}
      >
        <Field label="Number" hint="E.164, e.g. +15550170">
          {(id, hint) => <input id={id} aria-describedby={hint} type="tel" required value={number} onInput={(e) => setNumber(e.currentTarget.value)} />}
        </Field>
        <Field label="Agent">
          {(id) => (
            <select id={id} value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
              <option value="">No agent</option>
              {agentOptions}
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Add number
        </button>
        <Notice message={message} />
      </form>
    </Page>
  );
}
