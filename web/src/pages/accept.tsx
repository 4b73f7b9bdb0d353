import { useState } from 'preact/hooks';
import { acceptInvitation, type Me } from '../api';
import { Field, Notice, useAction } from '../ui';

/** `#/invitations/<token>`: the link an invitation gives; accepting creates the user and signs them in. */
export function AcceptInvitation({ token, onSignedIn }: { token: string; onSignedIn: (me: Me) => void }) {
  const [name, setName] = useState('');
  const [accepted, setAccepted] = useState<{ me: Me; apiKey?: string } | undefined>(undefined);
  const { busy, message, run } = useAction();
  if (accepted)
    return (
      <main id="main" class="sign-in">
        <h1 id="page-title" tabIndex={-1}>
          Welcome
        </h1>
        {accepted.apiKey && (
          <p>
            Your API key (shown once): <code class="secret">{accepted.apiKey}</code>
          </p>
        )}
        <button type="button" onClick={() => onSignedIn(accepted.me)}>
          Continue to the dashboard
        </button>
      </main>
    );
  return (
    <main id="main" class="sign-in">
      <h1 id="page-title" tabIndex={-1}>
        Accept the invitation
      </h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => setAccepted(await acceptInvitation(token, name.trim())));
        }}
      >
        <Field label="Your name">{(id) => <input id={id} required value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
        <button type="submit" disabled={busy}>
          Accept
        </button>
        <Notice message={message} />
      </form>
    </main>
  );
}
