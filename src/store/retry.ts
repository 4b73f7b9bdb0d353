/**
 * A PostgreSQL connection can be lost under a statement (failover, restart, idle timeout,
 * pg_terminate_backend). The pool replaces the connection; what ran on it failed and may be run again.
 */

/**
 * True for an error that means the database connection was lost or could not be made (class 08
 * "connection exception", 57P01–57P03 "operator intervention" such as a terminated backend, refused or
 * reset sockets, pg's own "Connection terminated"): nothing was wrong with the statement itself.
 */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^08|^57P0[1-3]$/.test(code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|^Client has encountered a connection error|timeout exceeded when trying to connect/.test(message);
}

/**
 * Runs `work` again, on a fresh connection, when the connection was lost under it (up to `attempts` times,
 * a short pause between). Only for work that is safe to repeat: a lost COMMIT may have committed, so the
 * work must tolerate having happened already (a state transition the state machine then refuses).
 *
 * @example await retryOnConnectionLoss(() => db.transaction().execute(async (trx) => ...))
 */
export async function retryOnConnectionLoss<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= attempts || !isConnectionLoss(err)) throw err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}
