/**
 * One call: its transcript and events streaming in (Server-Sent Events, authenticated by the session
 * cookie), per-turn latency, summary and extracted data once it ends, the recording when there is one, and
 * the supervisor's controls while it is live.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, streamUrl, unwrap } from '../api';
import { clock, ErrorText, Field, Notice, Page, useAction, useData } from '../ui';

type CallEvent =
  | { type: 'transcript'; seq: number; at: string; role: 'agent' | 'callee' | 'supervisor' | 'operator' | 'system'; text: string }
  | { type: 'status'; seq: number; at: string; status: string; reason?: string }
  | { type: 'command'; seq: number; at: string; command: string; value?: string; by?: string };

const SPEAKER: Record<string, string> = { agent: 'Agent', callee: 'Callee', supervisor: 'Supervisor', operator: 'User', system: 'Switchboard' };
const ENDED = new Set(['completed', 'busy', 'no-answer', 'no_answer', 'canceled', 'failed', 'voicemail']);

/** Every event of the call, replayed from the start and then live, until the call ends. */
function useCallEvents(sid: string) {
  const [events, setEvents] = useState<CallEvent[]>([]);
  const [ended, setEnded] = useState(false);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    setEvents([]);
    setEnded(false);
    const source = new EventSource(streamUrl(`/dashboard/api/calls/${encodeURIComponent(sid)}/events`));
    const add = (m: MessageEvent) => {
      const e = JSON.parse(m.data) as CallEvent;
      // A reconnect resumes after the last id; a duplicate is ignored all the same.
      setEvents((all) => (all.some((x) => x.seq === e.seq) ? all : [...all, e]));
    };
    for (const type of ['transcript', 'status', 'command']) source.addEventListener(type, add);
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('ended', () => {
      setEnded(true);
      source.close(); // or EventSource would reconnect
    });
    source.addEventListener('error', () => setConnected(false));
    return () => source.close();
  }, [sid]);
  return { events, ended, connected };
}

function eventLine(e: CallEvent): string {
  if (e.type === 'status') return `Status: ${e.status.replace(/_/g, ' ')}${e.reason ? ` (${e.reason.replace(/_/g, ' ')})` : ''}`;
  if (e.type === 'command') {
    const who = e.by ? ` by ${e.by.startsWith('user:') ? 'a dashboard user' : 'an API key'}` : '';
    const what =
      e.command === 'press' || e.command === 'dtmf'
        ? `Keys pressed: ${e.value ?? ''}`
        : e.command === 'transfer'
          ? `Transfer to ${e.value ?? ''}`
          : e.command === 'say'
            ? `Supervisor line${e.value ? ` (${e.value.replace(/_/g, ' ')})` : ''}`
            : `${e.command.replace(/_/g, ' ')}${e.value ? `: ${e.value}` : ''}`;
    return what + who;
  }
  return e.text;
}

export function CallPage({ sid }: { sid: string }) {
  const { events, ended: streamEnded, connected } = useCallEvents(sid);
  const statuses = events.filter((e): e is Extract<CallEvent, { type: 'status' }> => e.type === 'status');
  // The call's facts are read again at each change of status (and every few seconds for its duration).
  const info = useData(() => api<any>('GET', `/v1/calls/${encodeURIComponent(sid)}`), [sid, statuses.length], 3000);
  const turns = useData(() => api<any>('GET', `/dashboard/api/calls/${encodeURIComponent(sid)}/turns`), [sid, events.length], undefined);
  // A user-on-call session's room is polled (its phases are not call events); any other call answers 404 once.
  const [isSession, setIsSession] = useState(true);
  const conference = useData(
    () =>
      api<any>('GET', `/v1/calls/${encodeURIComponent(sid)}/conference-status`).catch((e) => {
        if (!(e instanceof ApiError) || e.status !== 404) throw e;
        setIsSession(false);
        return null;
      }),
    [sid, events.length],
    isSession && !streamEnded ? 2000 : undefined,
  );
  // The stream's latest status is the freshest word (core words: in_progress…); the stored one until then.
  const status: string | undefined = statuses.length ? statuses[statuses.length - 1].status : info.data?.status;
  const ended = streamEnded || (status !== undefined && ENDED.has(status));
  const report = useData(async () => (ended ? unwrap<any>(await api('GET', `/api/v1/calls/${encodeURIComponent(sid)}`)).report : undefined), [sid, ended]);
  const recording = useData(
    async () =>
      ended
        ? await api<any>('GET', `/v1/calls/${encodeURIComponent(sid)}/recording?format=mp3`).catch((e) => (e instanceof ApiError ? null : Promise.reject(e)))
        : null,
    // Recordings are made after the call ends: asked again when the call's own record shows one.
    [sid, ended, info.data?.recordingUrl],
  );

  // A live call's duration runs from its answer (the stream's in_progress event), counted here each second.
  const answeredAt = statuses.find((e) => e.status === 'in_progress')?.at;
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (ended || !answeredAt) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [ended, answeredAt]);
  const duration = info.data?.duration ?? (answeredAt && !ended ? (now - Date.parse(answeredAt)) / 1000 : null);

  const transcript = events.filter((e): e is Extract<CallEvent, { type: 'transcript' }> => e.type === 'transcript');
  const others = events.filter((e) => e.type !== 'transcript');
  const c = info.data;
  const title = c ? `Call to ${c.to ?? c.call?.to ?? sid}` : 'Call';
  return (
    <Page title={title}>
      <ErrorText error={info.error} />
      {c && (
        <dl class="facts">
          <div>
            <dt>Status</dt>
            <dd>
              <span class={`status ${status}`} data-testid="call-status">
                {status?.replace(/_/g, ' ')}
              </span>
            </dd>
          </div>
          <div>
            <dt>Call</dt>
            <dd>
              <code>{c.sid}</code>
            </dd>
          </div>
          <div>
            <dt>From</dt>
            <dd>{c.from ?? '—'}</dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{clock(duration)}</dd>
          </div>
        </dl>
      )}
      <div class="call-grid">
        <div>
          <h2 id="transcript-title">Transcript</h2>
          <p class="hint" aria-live="polite">
            {ended ? 'The call has ended.' : connected ? 'Live: new lines appear as they are said.' : 'Connecting…'}
          </p>
          <ol class="transcript" role="log" aria-labelledby="transcript-title" data-testid="transcript">
            {transcript.map((t) => (
              <li key={t.seq} class={`line ${t.role}`}>
                <span class="speaker">{SPEAKER[t.role] ?? t.role}</span> <span class="text">{t.text}</span>
              </li>
            ))}
          </ol>
          {!ended && c && <Controls sid={sid} question={turns.data?.operator_question?.question} conference={conference.data} />}
          {ended && <Ended sid={sid} report={report.data} recording={recording.data} />}
        </div>
        <aside>
          <h2 id="events-title">Events</h2>
          <ol class="events" aria-labelledby="events-title" data-testid="events">
            {others.map((e) => (
              <li key={e.seq} class={`event-${e.type}`}>
                <time dateTime={e.at}>{new Date(e.at).toLocaleTimeString()}</time> {eventLine(e)}
              </li>
            ))}
          </ol>
          <Latency data={turns.data} />
        </aside>
      </div>
    </Page>
  );
}

const ms = (v: number | null) => (v === null || v === undefined ? '—' : String(Math.round(v)));

function Latency({ data }: { data: any }) {
  if (!data) return null;
  return (
    <>
      <h2>Per-turn latency</h2>
      <p class="hint">
        {data.transcript_count} transcript lines · {data.command_count} commands · {data.override_count} supervisor overrides
      </p>
      {data.turns.length === 0 ? (
        <p>No agent turn measured yet.</p>
      ) : (
        <div class="scroll">
        <table class="compact">
          <thead>
            <tr>
              <th scope="col">Turn</th>
              <th scope="col">Heard → model (ms)</th>
              <th scope="col">First token (ms)</th>
              <th scope="col">First audio (ms)</th>
            </tr>
          </thead>
          <tbody>
            {data.turns.map((t: any) => (
              <tr key={t.turn}>
                <td>{t.turn}</td>
                <td>{ms(t.transcript_to_gpt_ms)}</td>
                <td>{ms(t.gpt_first_token_ms)}</td>
                <td>{ms(t.first_audio_playback_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
    </>
  );
}

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];

function Controls({ sid, question, conference }: { sid: string; question?: string; conference: any }) {
  const path = `/v1/calls/${encodeURIComponent(sid)}`;
  const { busy, message, run } = useAction();
  const [line, setLine] = useState('');
  const [interrupt, setInterrupt] = useState(true);
  const [digits, setDigits] = useState('');
  const [target, setTarget] = useState('');
  const [warm, setWarm] = useState(true);
  const [answer, setAnswer] = useState('');
  const [aiTask, setAiTask] = useState('');
  const [dropUser, setDropUser] = useState(true);
  const [userLine, setUserLine] = useState('');
  const lineRef = useRef<HTMLInputElement>(null);
  return (
    <section class="controls" aria-labelledby="controls-title">
      <h2 id="controls-title">Supervisor</h2>
      <Notice message={message} />
      {question && (
        <form
          class="question"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api('POST', `${path}/operator-answer`, { answer }), 'Answer sent to the agent').then((ok) => ok && setAnswer(''));
          }}
        >
          <p>
            <strong>The agent asks:</strong> {question}
          </p>
          <Field label="Your answer">{(id) => <input id={id} required value={answer} onInput={(e) => setAnswer(e.currentTarget.value)} />}</Field>
          <button type="submit" disabled={busy}>
            Send answer
          </button>
        </form>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', `${path}/say`, { text: line, interrupt }), 'Line sent').then((ok) => {
            if (ok) setLine('');
            lineRef.current?.focus();
          });
        }}
      >
        <Field label="Say a line">
          {(id) => <input id={id} ref={lineRef} required maxLength={1000} value={line} onInput={(e) => setLine(e.currentTarget.value)} />}
        </Field>
        <label class="check">
          <input type="checkbox" checked={interrupt} onChange={(e) => setInterrupt(e.currentTarget.checked)} /> Interrupt the agent
        </label>
        <button type="submit" disabled={busy}>
          Say it
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', `${path}/press`, { digits }), 'Keys pressed').then((ok) => ok && setDigits(''));
        }}
      >
        <Field label="Keys to press" hint="0–9, * and #">
          {(id, hint) => (
            <input id={id} aria-describedby={hint} inputMode="tel" pattern="[0-9*#w]+" required value={digits} onInput={(e) => setDigits(e.currentTarget.value)} />
          )}
        </Field>
        <div class="keypad" role="group" aria-label="Keypad">
          {KEYS.map((k) => (
            <button type="button" key={k} aria-label={`Add ${k}`} onClick={() => setDigits((d) => d + k)}>
              {k}
            </button>
          ))}
        </div>
        <button type="submit" disabled={busy}>
          Press keys
        </button>
      </form>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', `${path}/transfer`, { destination: target, warm }), 'Transfer started');
        }}
      >
        <Field label="Transfer to" hint="E.164, e.g. +15550100">
          {(id, hint) => <input id={id} aria-describedby={hint} type="tel" required value={target} onInput={(e) => setTarget(e.currentTarget.value)} />}
        </Field>
        <label class="check">
          <input type="checkbox" checked={warm} onChange={(e) => setWarm(e.currentTarget.checked)} /> Warm transfer (the agent introduces the call)
        </label>
        <button type="submit" disabled={busy}>
          Transfer
        </button>
      </form>
      {conference && (
        <form
          class="conference"
          onSubmit={(e) => {
            e.preventDefault();
            void run(
              () => api('POST', `${path}/activate`, { ...(aiTask ? { task: aiTask } : {}), drop_user: dropUser }),
              'The AI has taken over',
            );
          }}
        >
          <p data-testid="conference">
            User on call: <strong>{String(conference.state).replace(/_/g, ' ')}</strong>
            {conference.ai_active ? ' · the AI is active' : ' · the AI is waiting'}
          </p>
          <ul class="participants">
            {(conference.participants ?? []).map((p: any) => (
              <li key={p.callSid}>
                {p.role}: {p.status}
                {p.muted ? ' (muted)' : ''}
              </li>
            ))}
          </ul>
          {!conference.ai_active && (
            <>
              <Field label="Task for the AI (optional)">{(id) => <input id={id} value={aiTask} onInput={(e) => setAiTask(e.currentTarget.value)} />}</Field>
              <label class="check">
                <input type="checkbox" checked={dropUser} onChange={(e) => setDropUser(e.currentTarget.checked)} /> Drop the user when the AI takes over
              </label>
              <button type="submit" disabled={busy}>
                Activate the AI
              </button>
            </>
          )}
          {(conference.participants ?? []).some((p: any) => p.role === 'user' && p.status !== 'completed') && (
            <button type="button" disabled={busy} onClick={() => void run(() => api('POST', `${path}/drop-user`, {}), 'The user has left the call')}>
              Drop the user
            </button>
          )}
        </form>
      )}
      {(conference?.participants ?? []).some((p: any) => p.role === 'user' && p.status === 'connected') && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api('POST', `${path}/user-say`, { text: userLine }), 'Said as the user').then((ok) => ok && setUserLine(''));
          }}
        >
          <Field label="Speak as the user" hint="Simulated network: said to the target in the room">
            {(id, hint) => <input id={id} aria-describedby={hint} required maxLength={1000} value={userLine} onInput={(e) => setUserLine(e.currentTarget.value)} />}
          </Field>
          <button type="submit" disabled={busy}>
            Say as the user
          </button>
        </form>
      )}
      <button type="button" class="danger" disabled={busy} onClick={() => void run(() => api('POST', '/v1/end-call', { callSid: sid }), 'Call ended')}>
        End call
      </button>
    </section>
  );
}

function Ended({ sid, report, recording }: { sid: string; report: any; recording: any }) {
  const { busy, message, run } = useAction();
  const [saved, setSaved] = useState<string | undefined>(undefined);
  const url: string | undefined = recording?.recording_url ?? recording?.url;
  const extracted: Array<[string, unknown]> | undefined = report?.extracted ? Object.entries(report.extracted as Record<string, unknown>) : undefined;
  return (
    <section aria-labelledby="outcome-title">
      <h2 id="outcome-title">Outcome</h2>
      {report ? (
        <>
          <p data-testid="summary">{report.summary ?? 'No summary.'}</p>
          <p>
            {report.goal_completed === true ? 'Goal completed.' : report.goal_completed === false ? 'Goal not completed.' : ''}{' '}
            {report.outcome ? `Outcome: ${report.outcome}.` : ''} {report.end_reason ? `Ended: ${String(report.end_reason).replace(/_/g, ' ')}.` : ''}
          </p>
          {extracted && extracted.length > 0 && (
            <dl class="facts">
              {extracted.map(([k, v]) => (
                <div key={k}>
                  <dt>{k.replace(/_/g, ' ')}</dt>
                  <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
                </div>
              ))}
            </dl>
          )}
        </>
      ) : (
        <p>Loading the summary…</p>
      )}
      {url && (
        <>
          <h3>Recording</h3>
          <audio controls preload="none" src={url} aria-label="Call recording" />
        </>
      )}
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          void run(async () => {
            const r = await api<{ scenario?: { path?: string } }>('POST', `/v1/calls/${encodeURIComponent(sid)}/scenario`, {});
            setSaved(r.scenario?.path ?? 'the scenarios folder');
          })
        }
      >
        Save as a test scenario
      </button>
      {saved && (
        <p class="notice ok" role="status">
          Saved to <code>{saved}</code>: <code>npx switchboard scenarios test</code> now checks changes against this call.
        </p>
      )}
      <Notice message={message} />
    </section>
  );
}
