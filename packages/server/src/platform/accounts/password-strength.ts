/**
 * What a password must be, wherever one is set (sign-up, password reset, `tessera user create`):
 * at least MIN_PASSWORD_LENGTH characters, and hard to guess by zxcvbn-ts's offline estimate
 * (common passwords, English words, names, keyboard patterns, dates, repeats, l33t spellings and
 * the user's own email and name), score 3 of 4 or better: about 10^8 guesses or more.
 *
 * The estimate runs in a worker thread: on a long repetitive input it takes up to a second or
 * two, which on the event loop would stall every request. One worker serves the process; checks
 * queue in order, each with a deadline, and a worker that fails or overruns is replaced.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;
/** zxcvbn-ts score (0-4) a password must reach: 3 means "safely unguessable" online. */
const MIN_SCORE = 3;
/** Only this much of a password is estimated: the cost grows fast with length, and a longer one that is weak so far stays weak. */
const ESTIMATED_LENGTH = 64;
const CHECK_TIMEOUT_MS = 10_000;
/** Checks waiting at once; beyond it a check is refused as busy rather than queued without end. */
const MAX_QUEUED = 64;

export const PASSWORD_RULE = `At least ${MIN_PASSWORD_LENGTH} characters, and hard to guess: not a common password, a word or name with a few digits, a date, a keyboard pattern or your email address. A few unrelated words make a good one.`;

/** The estimate could not be made (the worker is busy or failed); the user should try again. */
export class PasswordCheckUnavailable extends Error {
  constructor(readonly reason: string) {
    super('We could not check the password just now. Try again in a moment.');
  }
}

// Plain CommonJS run by the worker: worker threads do not inherit the TypeScript loader in tests.
const ESTIMATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const { ZxcvbnFactory } = require(workerData.core);
const common = require(workerData.common);
const english = require(workerData.english);
const zxcvbn = new ZxcvbnFactory({
  dictionary: { ...common.dictionary, ...english.dictionary },
  graphs: common.adjacencyGraphs,
  translations: english.translations,
  maxLength: workerData.maxLength,
});
parentPort.on('message', ({ id, password, userInputs }) => {
  const result = zxcvbn.check(password, userInputs);
  parentPort.postMessage({ id, score: result.score, warning: result.feedback.warning });
});
`;

interface Estimate {
  score: number;
  warning: string | null;
}

interface Waiting {
  resolve(estimate: Estimate): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

class Estimator {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  private start(): Worker {
    const require = createRequire(import.meta.url);
    const workerData = {
      core: require.resolve('@zxcvbn-ts/core'),
      common: require.resolve('@zxcvbn-ts/language-common'),
      english: require.resolve('@zxcvbn-ts/language-en'),
      maxLength: ESTIMATED_LENGTH,
    };
    const worker = new Worker(ESTIMATOR, { eval: true, workerData });
    // Idle, it must not keep a CLI command or a test process alive.
    worker.unref();
    worker.on('message', ({ id, ...estimate }: Estimate & { id: number }) => {
      const entry = this.waiting.get(id);
      if (!entry) return;
      this.waiting.delete(id);
      clearTimeout(entry.timer);
      entry.resolve(estimate);
    });
    worker.on('error', (error) => this.fail(worker, error.message));
    worker.on('exit', () => this.fail(worker, 'the password estimator stopped'));
    return worker;
  }

  /** Rejects every waiting check of a worker that failed; the next check starts a new one. */
  private fail(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    for (const [id, entry] of this.waiting) {
      clearTimeout(entry.timer);
      entry.reject(new PasswordCheckUnavailable(reason));
      this.waiting.delete(id);
    }
  }

  estimate(password: string, userInputs: string[]): Promise<Estimate> {
    if (this.waiting.size >= MAX_QUEUED) return Promise.reject(new PasswordCheckUnavailable('too many password checks at once'));
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise<Estimate>((resolve, reject) => {
      const timer = setTimeout(() => this.fail(worker, 'the password estimate took too long'), CHECK_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      worker.ref();
      worker.postMessage({ id, password, userInputs });
    }).finally(() => {
      if (this.waiting.size === 0) this.worker?.unref();
    });
  }
}

const estimator = new Estimator();

/**
 * Why a password may not be used, or undefined when it may. `personal` are the user's own words
 * (email, name, the platform's name), which make a password easier to guess.
 */
export async function passwordProblem(password: string, personal: Array<string | null | undefined>): Promise<string | undefined> {
  if (password.length < MIN_PASSWORD_LENGTH) return `Passwords must be at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (password.length > MAX_PASSWORD_LENGTH) return 'That password is too long.';
  // The email's local part and domain, a name run together and each of its parts are words a guesser would try.
  const userInputs = personal.flatMap((value) => {
    if (!value) return [];
    const lower = value.toLowerCase();
    return [lower, lower.replace(/\s+/g, ''), ...lower.split(/[\s@.+_-]+/).filter((part) => part.length >= 3)];
  });
  const { score, warning } = await estimator.estimate(password, userInputs);
  if (score >= MIN_SCORE) return undefined;
  return `That password is too easy to guess.${warning ? ` ${warning}` : ''} ${PASSWORD_RULE}`;
}
