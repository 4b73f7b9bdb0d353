/** Listing an organisation's calls with filters (task, agent, states), newest first, with the total. */
import { isUuid } from '../../lib/ids.js';
import type { CallRow, Db } from '../../store/index.js';
import { page } from '../agents.js';

export interface CallListFilter {
  taskId?: string;
  agentId?: string;
  /** Core states; an empty list matches nothing. */
  states?: string[];
  limit?: number;
  offset?: number;
}

export class CallIndex {
  constructor(private readonly db: Db) {}

  async list(orgId: string, f: CallListFilter): Promise<{ items: CallRow[]; total: number; limit: number; offset: number }> {
    const { limit, offset } = page(f);
    if ((f.taskId !== undefined && !isUuid(f.taskId)) || (f.agentId !== undefined && !isUuid(f.agentId)) || f.states?.length === 0) {
      return { items: [], total: 0, limit, offset };
    }
    let q = this.db.selectFrom('calls').where('org_id', '=', orgId);
    if (f.taskId !== undefined) q = q.where('task_id', '=', f.taskId);
    if (f.agentId !== undefined) q = q.where('agent_id', '=', f.agentId);
    if (f.states) q = q.where('status', 'in', f.states);
    const [items, total] = await Promise.all([
      q.selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit).offset(offset).execute(),
      q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { items, total: Number(total.n), limit, offset };
  }
}
