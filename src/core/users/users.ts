/**
 * An organisation's people. A person signs in to the dashboard with one of their API keys and acts as the
 * key's owner. Keys made before there were users (the first start's key, `switchboard keys create`) belong
 * to the organisation's owner, a user made the first time such a key signs in.
 */
import { isUuid, newId } from '../../lib/ids.js';
import type { Db, OrgRow, UserRow } from '../../store/index.js';
import { Orgs } from '../orgs.js';
import { SwitchboardError, notFound, validationError } from '../errors.js';

export const ROLES = ['owner', 'admin', 'member'] as const;
export type Role = (typeof ROLES)[number];
/** Roles an invitation may give (an organisation has one owner: whoever made it). */
export const INVITABLE_ROLES = ['admin', 'member'] as const satisfies readonly Role[];

/** Whether a role may manage the organisation: invite people, rename it, see and revoke everyone's keys. */
export function canManage(role: string): boolean {
  return role === 'owner' || role === 'admin';
}

/** A user as the APIs show them. */
export interface UserView {
  id: string;
  email: string | null;
  name: string;
  role: string;
  created_at: string;
}

export function userView(u: UserRow): UserView {
  return { id: u.id, email: u.email, name: u.name, role: u.role, created_at: new Date(u.created_at).toISOString() };
}

// Deliberately loose (one @, a dot in the domain, no spaces): the invitation's acceptance proves the address.
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;

/** A checked, lower-cased e-mail address, or a validation error naming `field`. */
export function checkEmail(value: string, field = 'email'): string {
  const v = value.trim().toLowerCase();
  if (v.length > 254 || !EMAIL.test(v)) throw validationError(field, `${field} must be an e-mail address`);
  return v;
}

export class Users {
  constructor(
    private readonly db: Db,
    /** Makes organisations (createOrgFor): the core's, so that they are made as every other one is. */
    private readonly orgs: Orgs = new Orgs(db),
  ) {}

  async list(orgId: string): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();
  }

  async get(orgId: string, id: string): Promise<UserRow> {
    const u = isUuid(id) ? await this.db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst() : undefined;
    if (!u) throw notFound('User');
    return u;
  }

  async findByEmail(orgId: string, email: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('email', '=', email.toLowerCase()).executeTakeFirst();
  }

  /** Adds a user; an address already in the organisation is refused, naming `email`. */
  async create(orgId: string, u: { email: string | null; name: string; role: Role }): Promise<UserRow> {
    if (u.email && (await this.findByEmail(orgId, u.email))) throw emailTaken();
    try {
      return await this.db
        .insertInto('users')
        .values({ id: newId(), org_id: orgId, email: u.email?.toLowerCase() ?? null, name: u.name, role: u.role })
        .returningAll()
        .executeTakeFirstOrThrow();
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw emailTaken();
      throw err;
    }
  }

  /**
   * A new organisation owned by `person`: they become its owner (a user of it, with the same address and
   * name) and get its first key, returned once, to sign in there. All or nothing.
   */
  async createOrgFor(person: UserRow, name: string): Promise<{ org: OrgRow; user: UserRow; key: string }> {
    return this.db.transaction().execute(async (trx) => {
      const orgs = this.orgs.in(trx);
      const made = await orgs.ensure(name);
      if (!made.created) throw new SwitchboardError('SB_ERR_VALIDATION', 'name is taken by another organization', { field: 'name' });
      const user = await new Users(trx).create(made.org.id, { email: person.email, name: person.name, role: 'owner' });
      const { key } = await orgs.createUserKey(made.org.id, user.id, 'dashboard');
      return { org: made.org, user, key };
    });
  }

  /**
   * The user a key signs in as: its owner, or for a key nobody owns the organisation's owner (made now if
   * the organisation has none yet, and given the key).
   */
  async ownerOfKey(key: { id: string; orgId: string; userId: string | null }): Promise<UserRow> {
    if (key.userId) {
      const u = await this.db.selectFrom('users').selectAll().where('id', '=', key.userId).executeTakeFirst();
      if (u) return u;
    }
    return this.db.transaction().execute(async (trx) => {
      // One owner per organisation even when two first sign-ins race: the organisation row is the lock.
      await trx.selectFrom('orgs').select('id').where('id', '=', key.orgId).forUpdate().executeTakeFirst();
      let owner = await trx.selectFrom('users').selectAll().where('org_id', '=', key.orgId).where('role', '=', 'owner').orderBy('created_at').executeTakeFirst();
      owner ??= await trx.insertInto('users').values({ id: newId(), org_id: key.orgId, email: null, name: 'Owner', role: 'owner' }).returningAll().executeTakeFirstOrThrow();
      await trx.updateTable('api_keys').set({ user_id: owner.id }).where('id', '=', key.id).execute();
      return owner;
    });
  }
}

function emailTaken(): SwitchboardError {
  return new SwitchboardError('SB_ERR_VALIDATION', 'email is already a user of this organization', { field: 'email' });
}
