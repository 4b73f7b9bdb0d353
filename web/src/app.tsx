/** The shell: sign-in, navigation and the hash router (`#/calls/CA…`), so any static server can serve it. */
import { useEffect, useState } from 'preact/hooks';
import { resume, signOut, hasSession, type Me } from './api';
import { SignIn } from './pages/sign-in';
import { CallsPage } from './pages/calls';
import { CallPage } from './pages/call';
import { StartCallPage } from './pages/start-call';
import { AgentsPage } from './pages/agents';
import { TasksPage } from './pages/tasks';
import { NumbersPage } from './pages/numbers';
import { KeysPage } from './pages/keys';
import { OrganisationPage } from './pages/organisation';
import { WebhooksPage } from './pages/webhooks';
import { CreditsPage } from './pages/credits';
import { AcceptInvitation } from './pages/accept';

function useHash(): string {
  const [hash, setHash] = useState(location.hash || '#/calls');
  useEffect(() => {
    const on = () => setHash(location.hash || '#/calls');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

const NAV: Array<[string, string, boolean?]> = [
  ['#/calls', 'Live calls'],
  ['#/start', 'Start a call'],
  ['#/agents', 'Agents'],
  ['#/tasks', 'Tasks'],
  ['#/numbers', 'Phone numbers'],
  ['#/keys', 'API keys', true],
  ['#/organisation', 'Organisation', true],
  ['#/webhooks', 'Webhooks'],
  ['#/credits', 'Credits'],
];

export function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const hash = useHash();
  useEffect(() => {
    void resume().then(setMe);
  }, []);
  // Move focus to the new page's heading, so a screen reader announces where the user is.
  useEffect(() => {
    document.getElementById('page-title')?.focus();
  }, [hash]);

  const invite = /^#\/invitations\/([^/]+)$/.exec(hash);
  if (invite) return <AcceptInvitation token={decodeURIComponent(invite[1])} onSignedIn={(m) => ((location.hash = '#/calls'), setMe(m))} />;
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) return <SignIn onSignedIn={setMe} />;

  const path = hash.slice(1);
  const call = /^\/calls\/([^/]+)$/.exec(path);
  let page;
  if (call) page = <CallPage key={call[1]} sid={decodeURIComponent(call[1])} />;
  else if (path === '/start') page = <StartCallPage />;
  else if (path === '/agents') page = <AgentsPage />;
  else if (path === '/tasks') page = <TasksPage />;
  else if (path === '/numbers') page = <NumbersPage />;
  else if (path === '/keys') page = <KeysPage />;
  else if (path === '/organisation') page = <OrganisationPage me={me} />;
  else if (path === '/webhooks') page = <WebhooksPage />;
  else if (path === '/credits') page = <CreditsPage />;
  else page = <CallsPage />;

  const section = '#' + (path.split('/').slice(0, 2).join('/') || '/calls');
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Switchboard</span>
        <span class="who">
          {me.user ? `${me.user.name || me.user.email} · ${me.org?.name ?? ''}` : 'Signed in with an API key'}
        </span>
        <button
          type="button"
          class="link"
          onClick={() => {
            void signOut().then(() => setMe(null));
          }}
        >
          Sign out
        </button>
      </header>
      <nav aria-label="Main">
        <ul>
          {NAV.filter(([, , sessionOnly]) => !sessionOnly || hasSession()).map(([href, label]) => (
            <li key={href}>
              <a href={href} aria-current={section === href ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">{page}</main>
    </div>
  );
}
