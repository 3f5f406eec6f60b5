/**
 * Whether a dependency (the database, Redis) is reachable, as last seen. Only changes are logged:
 * one warning when it goes away, with the reason, and one line when it is back, however many
 * requests or reconnection attempts fail in between. Probes and metrics read the state.
 */
import { pino, type Logger } from 'pino';

/** For runtimes with nobody to tell: the CLI's commands and tests. */
export const silentLogger: Logger = pino({ enabled: false });

export type AvailabilityState = 'unknown' | 'up' | 'down';

export class Availability {
  private current: AvailabilityState = 'unknown';
  private lastReason: string | undefined;
  private since = Date.now();

  constructor(
    private readonly log: Logger,
    private readonly messages: { down: string; up: string },
  ) {}

  get state(): AvailabilityState {
    return this.current;
  }

  get isDown(): boolean {
    return this.current === 'down';
  }

  /** Why it went away, while it is away. */
  get reason(): string | undefined {
    return this.current === 'down' ? this.lastReason : undefined;
  }

  up(): void {
    if (this.current === 'up') return;
    if (this.current === 'down') this.log.info({ downForMs: Date.now() - this.since }, this.messages.up);
    this.current = 'up';
    this.since = Date.now();
  }

  down(reason: string): void {
    this.lastReason = reason;
    if (this.current === 'down') return;
    this.log.warn({ reason }, this.messages.down);
    this.current = 'down';
    this.since = Date.now();
  }
}
