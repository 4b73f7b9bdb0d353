/**
 * Who answers a call that rings one of our numbers: the agent the number is assigned to for inbound calls
 * (`phone_numbers.inbound_agent_id`), with its prompt and greeting. A number that is unknown, assigned to
 * no agent, or whose agent is disabled is refused: the engine plays a short message and stores no call
 * (there may be no organisation to store it for, and nobody took the call).
 */
import { agentCallRequest, type Agents } from '../agents.js';
import type { PhoneNumbers } from '../numbers.js';
import type { CallRequest } from './request.js';

export type InboundRoute =
  | { ok: true; orgId: string; request: CallRequest }
  | { ok: false; reason: 'not_assigned' | 'agent_disabled' };

export async function routeInbound(d: { numbers: PhoneNumbers; agents: Agents }, from: string, to: string): Promise<InboundRoute> {
  const owner = await d.numbers.inboundAgent(to);
  if (!owner) return { ok: false, reason: 'not_assigned' };
  const agent = await d.agents.get(owner.orgId, owner.agentId).catch(() => null);
  if (!agent || !agent.enabled) return { ok: false, reason: 'agent_disabled' };
  const request: CallRequest = {
    ...agentCallRequest(agent, {
      face: 'agents-api',
      to,
      fromNumber: from,
      task: agent.description?.trim() || `Answer calls to ${agent.name}: find out what the caller needs and help them.`,
      metadata: { inbound: true },
    }),
    direction: 'inbound',
  };
  return { ok: true, orgId: owner.orgId, request };
}
