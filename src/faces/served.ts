/**
 * The faces this server serves, in one place: the OpenAPI description is built from it, and a test holds
 * package.json's description and the README to the same list (they may name no face that is not served).
 */
export interface ServedFace {
  /** How the documents call it. */
  name: string;
  /** Its path prefix ('' for Phony, whose routes have none). */
  prefix: string;
}

export const SERVED_FACES: readonly ServedFace[] = [
  { name: 'CallMyCall', prefix: '/v1' },
  { name: 'agents/tasks', prefix: '/api/v1' },
  { name: 'Truedy', prefix: '/api/public/v1' },
  { name: 'Phony', prefix: '' },
  { name: 'dashboard', prefix: '/dashboard' },
];

/** One line naming every served face, e.g. for the OpenAPI description. */
export function servedFacesLine(): string {
  const named = SERVED_FACES.map((f) => (f.prefix ? `${f.name} (${f.prefix})` : f.name));
  return `AI phone calls. One core, served as: ${named.slice(0, -1).join(', ')} and the ${named[named.length - 1]}.`;
}
