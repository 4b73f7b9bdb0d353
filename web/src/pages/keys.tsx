import { useState } from 'preact/hooks';
import { api, unwrap } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData, when } from '../ui';

/** A new or regenerated key is shown once: the server keeps only its hash. */
function pickKey(r: any): string | undefined {
  const d = unwrap<any>(r);
  return d?.key ?? d?.api_key?.key ?? d?.api_key ?? d?.secret;
}

export function KeysPage() {
  const list = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/api-keys')));
  const [name, setName] = useState('');
  const [shown, setShown] = useState<{ name: string; key: string } | undefined>(undefined);
  const { busy, message, run } = useAction();
  return (
    <Page title="API keys">
      <ErrorText error={list.error} />
      {shown && (
        <div class="notice ok" role="status">
          <p>
            Key “{shown.name}” (copy it now, it is shown only once): <code class="secret">{shown.key}</code>
          </p>
          <button type="button" class="link" onClick={() => setShown(undefined)}>
            Hide
          </button>
        </div>
      )}
      <table class="cards">
        <caption>Keys of this organisation</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Key</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((k) => (
            <tr key={k.id}>
              <td data-label="Name">{k.name}</td>
              <td data-label="Key">
                <code>{k.prefix ?? k.fingerprint ?? k.id}</code>
                {k.revoked_at ? ' (revoked)' : ''}
              </td>
              <td data-label="Created">{when(k.created_at)}</td>
              <td data-label="Last used">{when(k.last_used_at)}</td>
              <td data-label="Actions">
                {!k.revoked_at && (
                  <>
                    <button
                      type="button"
                      class="link"
                      aria-label={`Regenerate key ${k.name}`}
                      onClick={() =>
                        void run(async () => {
                          const key = pickKey(await api('POST', `/api/v1/api-keys/${k.id}/regenerate`, {}));
                          if (key) setShown({ name: k.name, key });
                          list.reload();
                        })
                      }
                    >
                      Regenerate
                    </button>{' '}
                    <button
                      type="button"
                      class="link danger"
                      aria-label={`Revoke key ${k.name}`}
                      onClick={() => {
                        if (confirm(`Revoke the key “${k.name}”? Programs using it stop working at once.`))
                          void run(() => api('DELETE', `/api/v1/api-keys/${k.id}`), `Key ${k.name} revoked`).then(list.reload);
                      }}
                    >
                      Revoke
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>New key</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const key = pickKey(await api('POST', '/api/v1/api-keys', { name }));
            if (key) setShown({ name, key });
            setName('');
            list.reload();
          });
        }}
      >
        <Field label="Key name" hint="Where the key will be used, e.g. “CRM integration”">
          {(id, hint) => <input id={id} aria-describedby={hint} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <button type="submit" disabled={busy}>
          Create key
        </button>
        <Notice message={message} />
      </form>
    </Page>
  );
}
