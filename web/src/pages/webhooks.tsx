import { api } from '../api';
import { ErrorText, Notice, Page, useAction, useData, when } from '../ui';

/** Webhook deliveries, one row per attempt, newest first; a delivery that gave up can be sent again. */
export function WebhooksPage() {
  const list = useData(async () => (await api<{ deliveries: any[] }>('GET', '/v1/webhook/deliveries?limit=100')).deliveries, [], 5000);
  const { busy, message, run } = useAction();
  return (
    <Page title="Webhook deliveries">
      <Notice message={message} />
      <ErrorText error={list.error} />
      {list.data && list.data.length === 0 && <p>No webhook has been sent yet.</p>}
      <table class="cards">
        <caption>Attempts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">URL</th>
            <th scope="col">Attempt</th>
            <th scope="col">Result</th>
            <th scope="col">When</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((d) => (
            <tr key={d.id}>
              <td data-label="Event">{d.event}</td>
              <td data-label="URL" class="url">
                {d.url}
              </td>
              <td data-label="Attempt">{d.attempt}</td>
              <td data-label="Result">
                {d.dead_letter ? 'gave up' : d.status_code ? `HTTP ${d.status_code}` : ''}
                {d.error ? ` · ${d.error}` : ''}
              </td>
              <td data-label="When">{when(d.created_at)}</td>
              <td data-label="Actions">
                {d.dead_letter && (
                  <button
                    type="button"
                    class="link"
                    disabled={busy}
                    aria-label={`Redeliver ${d.event} to ${d.url}`}
                    onClick={() => void run(() => api('POST', `/v1/webhook/deliveries/${d.id}/redeliver`, {}), 'Queued for delivery').then(list.reload)}
                  >
                    Redeliver
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}
