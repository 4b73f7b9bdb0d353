import { useState } from 'preact/hooks';
import { api, unwrap, type Me } from '../api';
import { ErrorText, Field, Notice, Page, useAction, useData, when } from '../ui';

/** The organisations this user can see, their users, and invitations (002's management routes). */
export function OrganisationPage({ me }: { me: Me }) {
  const orgs = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/organizations')));
  const users = useData(async () => unwrap<any[]>(await api('GET', '/api/v1/users')));
  const [orgName, setOrgName] = useState('');
  const [rename, setRename] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('member');
  const [invitation, setInvitation] = useState<any>(undefined);
  const { busy, message, run } = useAction();
  const orgList: any[] = Array.isArray(orgs.data) ? orgs.data : orgs.data ? [orgs.data] : [];
  const userList: any[] = Array.isArray(users.data) ? users.data : [];
  return (
    <Page title="Organisation">
      <Notice message={message} />
      <ErrorText error={orgs.error} />
      <table class="cards">
        <caption>Organisations</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {orgList.map((o) => (
            <tr key={o.id}>
              <td data-label="Name">
                {o.name}
                {o.id === me.org?.id ? ' (this one)' : ''}
              </td>
              <td data-label="Created">{when(o.created_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {me.org && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api('PATCH', `/api/v1/organizations/${me.org!.id}`, { name: rename }), 'Organisation renamed').then((ok) => ok && (setRename(''), orgs.reload()));
          }}
        >
          <Field label="Rename this organisation">{(id) => <input id={id} required value={rename} onInput={(e) => setRename(e.currentTarget.value)} />}</Field>
          <button type="submit" disabled={busy}>
            Rename
          </button>
        </form>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api('POST', '/api/v1/organizations', { name: orgName }), 'Organisation created').then((ok) => ok && (setOrgName(''), orgs.reload()));
        }}
      >
        <Field label="New organisation">{(id) => <input id={id} required value={orgName} onInput={(e) => setOrgName(e.currentTarget.value)} />}</Field>
        <button type="submit" disabled={busy}>
          Create organisation
        </button>
      </form>

      <h2>Users</h2>
      <ErrorText error={users.error} />
      <table class="cards">
        <caption>Users of {me.org?.name ?? 'this organisation'}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
          </tr>
        </thead>
        <tbody>
          {userList.map((u) => (
            <tr key={u.id}>
              <td data-label="Name">{u.name}</td>
              <td data-label="Email">{u.email}</td>
              <td data-label="Role">{u.role}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Invite someone</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            const r = unwrap<any>(await api('POST', '/api/v1/users/invite', { email, role }));
            setInvitation(r.invitation ?? r);
            setEmail('');
          }, 'Invitation created');
        }}
      >
        <Field label="Email">{(id) => <input id={id} type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />}</Field>
        <Field label="Role">
          {(id) => (
            <select id={id} value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              <option value="admin">Admin</option>
              <option value="member">Member</option>
              <option value="viewer">Viewer</option>
            </select>
          )}
        </Field>
        <button type="submit" disabled={busy}>
          Invite
        </button>
      </form>
      {invitation && (
        <p class="notice ok" role="status">
          Send this link to {invitation.email} (valid until {when(invitation.expires_at)}): <code class="secret">{invitation.accept_url}</code>
        </p>
      )}
    </Page>
  );
}
