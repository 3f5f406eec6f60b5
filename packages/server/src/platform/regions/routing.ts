/**
 * Which region answers a request that carries a credential (a code, a token, a client id) but no
 * region marker. Tessera's answer to a credential it does not know changes nothing (an unknown code
 * or refresh token is refused before any write, and so is another client's), so the front may ask
 * the regions in turn: each answer is classified, the first real answer wins, and when no region
 * recognised the credential the most informative refusal is returned.
 *
 * A region that could not answer (unreachable, timed out, 5xx or 429) might be the one that holds the
 * credential, so a refusal is never returned in its place: a client told `invalid_grant` would throw
 * away a refresh token that is still good. The client gets the region's own 429/5xx, or a 503, and
 * retries.
 */
import type { Region } from '../../config.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { isUnreachable, jsonBody, type Unreachable, type UpstreamAnswer } from './upstream.js';

/**
 * - `answer`: the region recognised the request (success, or an error only the right region gives).
 * - `unknown-credential`: the region knows the client but not the code or token.
 * - `unknown-client`: the region does not know the client (or its secret): `invalid_client`.
 * - `unavailable`: the region did not answer.
 */
export type Verdict = 'answer' | 'unknown-credential' | 'unknown-client' | 'unavailable';

export type Classifier = (answer: UpstreamAnswer) => Verdict;

interface RegionOutcome {
  answer: UpstreamAnswer | Unreachable;
  verdict: Verdict;
}

function errorCode(answer: UpstreamAnswer): unknown {
  return jsonBody(answer)?.error;
}

function commonVerdict(answer: UpstreamAnswer): Verdict | undefined {
  if (answer.status >= 500 || answer.status === 429) return 'unavailable';
  if (errorCode(answer) === 'invalid_client') return 'unknown-client';
  return undefined;
}

/** Token endpoint: `invalid_grant` is what a region says about a code, device code or refresh token it never issued. */
export const classifyToken: Classifier = (answer) =>
  commonVerdict(answer) ?? (answer.status === 400 && errorCode(answer) === 'invalid_grant' ? 'unknown-credential' : 'answer');

/** Introspection: a token the region does not hold (or not for this client) is `{"active": false}`. */
export const classifyIntrospection: Classifier = (answer) =>
  commonVerdict(answer) ?? (answer.status === 200 && jsonBody(answer)?.active !== true ? 'unknown-credential' : 'answer');

/** UserInfo: a 401 is an access token the region does not hold; a 403 (insufficient scope) is a real answer. */
export const classifyUserInfo: Classifier = (answer) =>
  commonVerdict(answer) ?? (answer.status === 401 ? 'unknown-credential' : 'answer');

/**
 * Requests that name a client and no credential of the region's: the region that knows the client
 * answers. Revocation (RFC 7009: every region answers 200 for any token of a client it knows) and
 * the device authorization endpoint (RFC 8628 §3.1: the device code is issued where the client is
 * registered; `unauthorized_client` or `invalid_scope` from there is a real answer).
 */
export const classifyByClient: Classifier = (answer) => commonVerdict(answer) ?? 'answer';

function classify(answer: UpstreamAnswer | Unreachable, classifier: Classifier): RegionOutcome {
  return { answer, verdict: isUnreachable(answer) ? 'unavailable' : classifier(answer) };
}

/** What a client is told when a region that might hold its credential could not be asked. */
export function unavailableAnswer(): UpstreamAnswer {
  const error = new OAuthError('temporarily_unavailable', 'a region could not be reached; try again shortly');
  return {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': '5' },
    body: Buffer.from(JSON.stringify(error.toJSON())),
  };
}

/** In turn: the first region that recognises the request answers it. */
const IN_TURN: Verdict[] = ['answer', 'unavailable', 'unknown-credential', 'unknown-client'];
/** Every region: a region that could not be asked outweighs the others' answers (it may hold the token). */
const EVERY_REGION: Verdict[] = ['unavailable', 'answer', 'unknown-credential', 'unknown-client'];

/**
 * The answer to relay, from the outcomes in region order, by verdict precedence. Among refusals,
 * one from a region that knew the client (`invalid_grant`, `active: false`, 401) beats an
 * `invalid_client` from one that did not. An unreachable region's place is taken by a 503.
 */
function chooseAnswer(outcomes: RegionOutcome[], precedence: Verdict[]): UpstreamAnswer {
  for (const verdict of precedence) {
    const chosen = outcomes.find((outcome) => outcome.verdict === verdict);
    if (chosen) return isUnreachable(chosen.answer) ? unavailableAnswer() : chosen.answer;
  }
  return unavailableAnswer();
}

type Call = (region: Region) => Promise<UpstreamAnswer | Unreachable>;

/** Asks the regions one after another and stops at the first that recognises the request. */
export async function routeInTurn(regions: Region[], call: Call, classifier: Classifier): Promise<UpstreamAnswer> {
  const outcomes: RegionOutcome[] = [];
  for (const region of regions) {
    const outcome = classify(await call(region), classifier);
    outcomes.push(outcome);
    if (outcome.verdict === 'answer') break;
  }
  return chooseAnswer(outcomes, IN_TURN);
}

/** Asks every region at once (revocation: a token is revoked wherever it is held). */
export async function routeToEvery(regions: Region[], call: Call, classifier: Classifier): Promise<UpstreamAnswer> {
  const outcomes = await Promise.all(regions.map(async (region) => classify(await call(region), classifier)));
  return chooseAnswer(outcomes, EVERY_REGION);
}
