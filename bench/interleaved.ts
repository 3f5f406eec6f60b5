/**
 * Two runs measured in turns: a run and its baseline take 2 s slices (A B B A, repeated), so that
 * what else the machine does at the time weighs on both alike: on a shared machine, two runs one
 * after the other can differ by a third for no reason of their own.
 */
import type { AutocannonResult } from 'autocannon';
import { cpuMillis } from './children.js';

const SLICE_SECONDS = 2;
const SLICE_ORDER = [0, 1, 1, 0] as const;

export const SLICES_NOTE = `${SLICE_SECONDS} s slices, each run and its baseline in turn; p50: the slices' median, p99: the highest`;

/** A run's slices added up. */
export interface Slices<R> {
  run: R;
  seconds: number;
  requests: number;
  non2xx: number;
  errors: number;
  statusCodes: Map<string, number>;
  p50s: number[];
  p99s: number[];
  /** CPU milliseconds of each watched process over the run's slices; undefined where it cannot be read. */
  cpuMs: Array<number | undefined>;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
export const rate = (slices: Slices<unknown>) => slices.requests / slices.seconds;

/** Warms both runs up, then measures them in turns for `duration` seconds each, watching the CPU of `pids`. */
export async function measureInTurns<R>(
  pair: readonly [R, R],
  load: (run: R, seconds: number) => Promise<AutocannonResult>,
  settings: { duration: number; warmup: number },
  pids: Array<number | undefined>,
): Promise<[Slices<R>, Slices<R>]> {
  const totals = pair.map((run): Slices<R> => ({ run, seconds: 0, requests: 0, non2xx: 0, errors: 0, statusCodes: new Map(), p50s: [], p99s: [], cpuMs: pids.map(() => 0) })) as [Slices<R>, Slices<R>];
  for (const run of pair) await load(run, settings.warmup);
  const slices = Math.max(1, Math.round(settings.duration / SLICE_SECONDS));
  const seconds = settings.duration / slices;
  for (let slice = 0; slice < 2 * slices; slice++) {
    const row = totals[SLICE_ORDER[slice % SLICE_ORDER.length]!];
    const cpuBefore = pids.map(cpuMillis);
    const result = await load(row.run, seconds);
    row.cpuMs = row.cpuMs.map((total, index) => {
      const after = cpuMillis(pids[index]);
      const before = cpuBefore[index];
      return total === undefined || before === undefined || after === undefined ? undefined : total + after - before;
    });
    row.seconds += seconds;
    row.requests += result.requests.total;
    row.non2xx += result.non2xx;
    row.errors += result.errors + result.timeouts;
    row.p50s.push(result.latency.p50);
    row.p99s.push(result.latency.p99);
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) row.statusCodes.set(code, (row.statusCodes.get(code) ?? 0) + count);
  }
  return totals;
}
