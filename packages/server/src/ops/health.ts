/**
 * Where an instance is in its life, as the probes (`/healthz`, `/readyz`, src/http/routes/probes.ts)
 * and the request gate see it. A server is `starting` until its database is migrated (it listens
 * before that, so an orchestrator sees it alive), `serving`, then `stopping` from the first
 * shutdown signal on. The front (`tessera front`) has no database and starts `serving`.
 */
export type Phase = 'starting' | 'serving' | 'stopping';

export interface Readiness {
  ready: boolean;
  /** `ready`, `starting`, `stopping` or `unavailable`, then what was checked. */
  status: string;
  [check: string]: unknown;
}

export interface Health {
  phase: Phase;
  readiness(): Promise<Readiness>;
}

export class DeadlineExceeded extends Error {}

/** `promise`, or a `DeadlineExceeded` once `ms` have passed (the promise goes on, and its outcome is ignored). */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
