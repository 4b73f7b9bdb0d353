import { useState } from 'preact/hooks';
import { api, unwrap } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData } from '../ui';

export function AgentsPage() {
  const list = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/agents?limit=100')));
  const [name, setName] = useState('');
  const [prompt, setPrompt] = useState('');
  const [language, setLanguage] = useState('en');
  const { busy, message, run } = useAction();
  return (
    <Page title="Agents">
      <ErrorText error={list.error} />
      <table class="cards">
        <caption>Agents of this organisation</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Language</th>
            <th scope="col">Enabled</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((a) => (
            <tr key={a.id}>
              <td data-label="Name">{a.name}</td>
              <td data-label="Language">{a.language}</td>
              <td data-label="Enabled">{a.enabled ? 'yes' : 'no'}</td>
              <td data-label="Actions">
                <button
                  type="button"
                  class="link"
                  aria-label={`Delete agent ${a.name}`}
                  onClick={() => void run(() => api('DELETE', `/api/v1/agents/${a.id}`), `Agent ${a.name} deleted`).then(list.reload)}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New agent</h2>
      <form
        class="wide"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', '/api/v1/agents', { name, system_prompt: prompt, language }), 'Agent created').then((ok) => {
            if (!ok) return;
            setName('');
            setPrompt('');
            list.reload();
          });
        }}
      >
        <Field label="Name">{(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <Field label="System prompt">{(id) => <textarea id={id} required rows={4} value={prompt} onInput={(e) => setPrompt(e.currentTarget.value)} />}</Field>
        <Field label="Language">{(id) => <input id={id} value={language} onInput={(e) => setLanguage(e.currentTarget.value)} />}</Field>
        <button type="submit" disabled={busy}>
          Create agent
        </button>
        <Notice message={message} />
      </form>
    </Page>
  );
}
