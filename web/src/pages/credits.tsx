import { api, ApiError } from '../api';
import { ErrorText, Page, useData, when } from '../ui';

/** GET /v1/credits, where the server has it (billing); a server without it says so. */
export function CreditsPage() {
  const credits = useData(() => api<any>('GET', '/v1/credits').catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))));
  const c = credits.data;
  return (
    <Page title="Credits">
      <ErrorText error={credits.error} />
      {c === null && <p>This server does not keep credits.</p>}
      {c && (
        <>
          <p>{c.billing_enabled ? `Balance: ${c.credits_balance} credits` : 'Billing is off on this server: calls cost nothing.'}</p>
          <table class="cards">
            <caption>Ledger</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Amount</th>
                <th scope="col">Call</th>
                <th scope="col">Note</th>
              </tr>
            </thead>
            <tbody>
              {(c.entries ?? []).map((e: any) => (
                <tr key={e.id}>
                  <td data-label="When">{when(e.created_at)}</td>
                  <td data-label="Kind">{e.kind}</td>
                  <td data-label="Amount">{e.amount}</td>
                  <td data-label="Call">{e.call_sid ? <a href={`#/calls/${e.call_sid}`}>{e.call_sid}</a> : '—'}</td>
                  <td data-label="Note">{e.note ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Page>
  );
}
