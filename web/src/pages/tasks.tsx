import { useState } from 'preact/hooks';
import { api, unwrap } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData, when } from '../ui';

export function TasksPage() {
  const list = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/tasks?limit=100')), [], 5000);
  const agents = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/agents?limit=100')));
  const [form, setForm] = useState({ agent_id: '', name: '', to_number: '', description: '' });
  const { busy, message, run } = useAction();
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => setForm({ ...form, [k]: e.currentTarget.value });
  return (
    <Page title="Tasks">
      <ErrorText error={list.error} />
      <table class="cards">
        <caption>Tasks</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Number</th>
            <th scope="col">Status</th>
            <th scope="col">Scheduled</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((t) => (
            <tr key={t.id}>
              <td data-label="Name">{t.name}</td>
              <td data-label="Number">{t.to_number}</td>
              <td data-label="Status">{t.status}</td>
              <td data-label="Scheduled">{when(t.scheduled_at)}</td>
              <td data-label="Actions">
                {t.status === 'pending' && (
                  <button
                    type="button"
                    class="link"
                    aria-label={`Run task ${t.name} now`}
                    onClick={() =>
                      void run(async () => {
                        const r = unwrap<any>(await api('POST', `/api/v1/tasks/${t.id}/execute`, {}));
                        location.hash = `#/calls/${encodeURIComponent(r.call_id)}`;
                      })
                    }
                  >
                    Run now
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New task</h2>
      <form
        class="wide"
        onSubmit={(e) => {
          e.preventDefault();
          const body = { ...form, description: form.description || undefined };
          void run(() => api('POST', '/api/v1/tasks', body), 'Task created').then((ok) => ok && (setForm({ ...form, name: '', description: '' }), list.reload()));
        }}
      >
        <Field label="Agent">
          {(id) => (
            <select id={id} required value={form.agent_id} onChange={set('agent_id')}>
              <option value="">Choose an agent</option>
              {(agents.data ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Name">{(id) => <input id={id} required value={form.name} onInput={set('name')} />}</Field>
        <Field label="Number to call" hint="E.164, e.g. +15550100">
          {(id, hint) => <input id={id} aria-describedby={hint} type="tel" required value={form.to_number} onInput={set('to_number')} />}
        </Field>
        <Field label="Description">{(id) => <textarea id={id} rows={3} value={form.description} onInput={set('description')} />}</Field>
        <button type="submit" disabled={busy}>
          Create task
        </button>
        <Notice message={message} />
      </form>
    </Page>
  );
}
