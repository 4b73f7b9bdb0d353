import { useEffect, useState } from 'preact/hooks';
import { api, unwrap } from '../api';
import { clock, ErrorText, Page, useData, when } from '../ui';

interface CallRow {
  id: string;
  to_number: string;
  from_number: string | null;
  direction: string;
  status: string;
  duration_seconds: number | null;
  started_at: string | null;
  created_at: string;
}

const LIVE = new Set(['initiated', 'in_progress']);

/** The calls list, newest first, refreshed every two seconds; live ones first with a running duration. */
export function CallsPage() {
  const { data, error } = useData(async () => unwrap<CallRow[]>(await api('GET', '/api/v1/calls?limit=50')), [], 2000);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const calls = data ?? [];
  const live = calls.filter((c) => LIVE.has(c.status));
  const done = calls.filter((c) => !LIVE.has(c.status));
  const duration = (c: CallRow) =>
    c.duration_seconds ?? (c.started_at && LIVE.has(c.status) ? (now - Date.parse(c.started_at)) / 1000 : null);
  const table = (rows: CallRow[], caption: string) => (
    <table class="cards">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Call</th>
          <th scope="col">Number</th>
          <th scope="col">Status</th>
          <th scope="col">Duration</th>
          <th scope="col">Created</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={c.id}>
            <td data-label="Call">
              <a href={`#/calls/${c.id}`}>{c.direction === 'inbound' ? `From ${c.from_number ?? '?'}` : `To ${c.to_number}`}</a>
            </td>
            <td data-label="Number">{c.direction === 'inbound' ? c.from_number : c.to_number}</td>
            <td data-label="Status">
              <span class={`status ${c.status}`}>{c.status.replace('_', ' ')}</span>
            </td>
            <td data-label="Duration">{clock(duration(c))}</td>
            <td data-label="Created">{when(c.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <Page
      title="Live calls"
      actions={
        <a class="button" href="#/start">
          Start a call
        </a>
      }
    >
      <ErrorText error={error} />
      {data === undefined && !error && <p>Loading…</p>}
      {data && (live.length ? table(live, `${live.length} live`) : <p>No call is live right now.</p>)}
      {done.length > 0 && table(done, 'Recent calls')}
    </Page>
  );
}
