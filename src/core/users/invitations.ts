/**
 * Invitations to an organisation: a random single-use token (stored as its SHA-256) that expires after
 * INVITATION_TTL_HOURS. Accepting one makes the user and a first API key for them, in one transaction; the
 * token is spent by a conditional update, so two accepts of one invitation cannot both succeed.
 */
import { randomBytes } from 'node:crypto';
import { newId } from '../../lib/ids.js';
import type { Db, InvitationRow, UserRow } from '../../store/index.js';
import { SwitchboardError, notFound, validationError } from '../errors.js';
import { hashKey, Orgs } from '../orgs.js';
import { checkEmail, INVITABLE_ROLES, Users, type Role } from './users.js';

export class Invitations {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  /** Invites an address with a role; the token is returned here only. */
  async create(orgId: string, invitedBy: string, email: string, role: string): Promise<{ invitation: InvitationRow; token: string }> {
    const address = checkEmail(email);
    if (!(INVITABLE_ROLES as readonly string[]).includes(role)) throw validationError('role', `role must be one of ${INVITABLE_ROLES.join(', ')}`);
    if (await new Users(this.db).findByEmail(orgId, address)) throw validationError('email', 'email is already a user of this organization');
    const token = 'inv_' + randomBytes(24).toString('base64url');
    const invitation = await this.db
      .insertInto('invitations')
      .values({ id: newId(), org_id: orgId, email: address, role, token_hash: hashKey(token), invited_by: invitedBy, expires_at: new Date(Date.now() + this.ttlMs), accepted_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { invitation, token };
  }

  /** Accepts an invitation: the new user, their first API key (shown once) and its id. */
  async accept(token: string, name: string): Promise<{ user: UserRow; key: string; keyId: string }> {
    if (!name.trim()) throw validationError('name', 'name must not be empty');
    const hash = hashKey(token);
    return this.db.transaction().execute(async (trx) => {
      const spent = await trx
        .updateTable('invitations')
        .set({ accepted_at: new Date() })
        .where('token_hash', '=', hash)
        .where('accepted_at', 'is', null)
        .where('expires_at', '>', new Date())
        .returningAll()
        .executeTakeFirst();
      if (!spent) {
        const found = await trx.selectFrom('invitations').select(['accepted_at']).where('token_hash', '=', hash).executeTakeFirst();
        if (!found) throw notFound('Invitation');
        if (found.accepted_at) throw new SwitchboardError('SB_ERR_INVITATION_USED', 'Invitation has already been accepted');
        throw new SwitchboardError('SB_ERR_INVITATION_EXPIRED', 'Invitation has expired');
      }
      const user = await new Users(trx).create(spent.org_id, { email: spent.email, name: name.trim(), role: spent.role as Role });
      const { key, view } = await new Orgs(trx).createUserKey(spent.org_id, user.id, 'dashboard');
      return { user, key, keyId: view.id };
    });
  }
}
