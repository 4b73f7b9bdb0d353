import { useState } from 'preact/hooks';
import { signIn, type Me } from '../api';
import { Field, Notice, useAction } from '../ui';

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [key, setKey] = useState('');
  const { busy, message, run } = useAction();
  return (
    <main id="main" class="sign-in">
      <h1 id="page-title" tabIndex={-1}>
        Sign in to Switchboard
      </h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => onSignedIn(await signIn(key.trim())));
        }}
      >
        <Field label="API key" hint="Your key starts a session in this browser; it is not stored here.">
          {(id, hint) => (
            <input id={id} aria-describedby={hint} type="password" autoComplete="off" required value={key} onInput={(e) => setKey(e.currentTarget.value)} />
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        <Notice message={message} />
      </form>
    </main>
  );
}
