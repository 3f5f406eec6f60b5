/**
 * The device authorization grant, client side (RFC 8628): for machines without a browser (servers,
 * containers, SSH sessions). The user approves on another device; this one polls the token endpoint.
 */
import { InvalidResponseError, TesseraError } from './errors.js';
import type { StoredTokens } from './token-store.js';

export const DEVICE_CODE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';

/** §3.2: the poll interval when the server names none. */
const DEFAULT_INTERVAL_SECONDS = 5;
/** §3.5: each `slow_down` adds five seconds, for this and every later poll. */
const SLOW_DOWN_SECONDS = 5;
/** How far backing off after connection failures may stretch the interval. */
const MAX_BACKOFF_MS = 60_000;

/** What to show the user. */
export interface DeviceCode {
  /** The code to type, e.g. `WDJB-MJHT`. */
  userCode: string;
  /** Where to type it. */
  verificationUri: string;
  /** The same page with the code filled in (for a QR code or a link), when the server offers one. */
  verificationUriComplete: string | undefined;
  /** Epoch milliseconds after which the code no longer works. */
  expiresAt: number;
}

export interface DeviceCodeOptions {
  /** Space-separated scopes, e.g. `openid user:read project:read`. */
  scope: string;
  /** RFC 8707 resource the token is for. */
  resource?: string;
  /** Shows the code to the user (print it, draw a QR code); awaited before polling starts. */
  onCode(code: DeviceCode): void | Promise<void>;
  /** Stops waiting; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface DeviceAuthorization {
  deviceCode: string;
  code: DeviceCode;
  intervalMs: number;
}

/** Reads the device authorization response (§3.2). */
export function parseDeviceAuthorization(body: Record<string, unknown>, requestedAt: number): DeviceAuthorization {
  const { device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval } = body;
  if (typeof device_code !== 'string' || typeof user_code !== 'string' || typeof verification_uri !== 'string' || typeof expires_in !== 'number') {
    throw new InvalidResponseError('invalid_response', 'the device authorization response lacks device_code, user_code, verification_uri or expires_in');
  }
  return {
    deviceCode: device_code,
    code: {
      userCode: user_code,
      verificationUri: verification_uri,
      verificationUriComplete: typeof verification_uri_complete === 'string' ? verification_uri_complete : undefined,
      expiresAt: requestedAt + expires_in * 1000,
    },
    intervalMs: (typeof interval === 'number' && interval > 0 ? interval : DEFAULT_INTERVAL_SECONDS) * 1000,
  };
}

export interface PollingClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Polls with `requestTokens` (one token request; it throws the endpoint's OAuth error) until the
 * user approves or denies, or the code expires (§3.4, §3.5): `authorization_pending` waits one
 * interval more, `slow_down` lengthens the interval by five seconds, `access_denied` and
 * `expired_token` end it. A connection failure or a 5xx backs off exponentially instead of failing
 * (§3.5), until the code expires.
 */
export async function pollForTokens(
  authorization: DeviceAuthorization,
  requestTokens: () => Promise<StoredTokens>,
  clock: PollingClock,
  signal?: AbortSignal,
): Promise<StoredTokens> {
  let intervalMs = authorization.intervalMs;
  let backoffMs = 0;
  for (;;) {
    await clock.sleep(intervalMs + backoffMs, signal);
    if (clock.now() >= authorization.code.expiresAt) {
      throw new TesseraError('expired_token', 'the device code expired before the user approved the sign-in');
    }
    try {
      return await requestTokens();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (error instanceof TesseraError && (error.status === undefined || error.status < 500)) {
        backoffMs = 0;
        if (error.code === 'authorization_pending') continue;
        if (error.code === 'slow_down') {
          intervalMs += SLOW_DOWN_SECONDS * 1000;
          continue;
        }
        throw error;
      }
      // fetch fails with a TypeError when the server cannot be reached.
      if (!(error instanceof TesseraError) && !(error instanceof TypeError)) throw error;
      backoffMs = Math.min(Math.max(backoffMs * 2, intervalMs), MAX_BACKOFF_MS);
    }
  }
}

/** setTimeout as a promise that an abort signal cuts short. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
