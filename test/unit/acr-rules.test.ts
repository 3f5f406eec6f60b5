/** The acr vocabulary and how requests for it are read (OIDC Core §3.1.2.1 acr_values, §5.5.1.1 claims). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACR_PASSWORD, ACR_TWO_FACTOR, acrOf, acrSatisfied, parseAcrRequest } from '../../packages/server/src/core/oidc/acr.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';

describe('acr requests', () => {
  it('reads acr_values as a voluntary request, in order of preference', () => {
    assert.equal(parseAcrRequest(undefined, undefined), undefined);
    assert.deepEqual(parseAcrRequest(`${ACR_TWO_FACTOR} ${ACR_PASSWORD}`, undefined), { values: [ACR_TWO_FACTOR, ACR_PASSWORD], essential: false });
  });

  it('reads the claims parameter: essential, value or values, null for the default manner; other claims are ignored', () => {
    assert.deepEqual(parseAcrRequest(undefined, JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_TWO_FACTOR] } } })), { values: [ACR_TWO_FACTOR], essential: true });
    assert.deepEqual(parseAcrRequest(undefined, JSON.stringify({ id_token: { acr: { value: ACR_PASSWORD } } })), { values: [ACR_PASSWORD], essential: false });
    assert.deepEqual(parseAcrRequest(undefined, JSON.stringify({ id_token: { acr: null } })), { values: [], essential: false });
    assert.equal(parseAcrRequest(undefined, JSON.stringify({ userinfo: { email: null } })), undefined);
    // values in claims win over acr_values; an essential flag comes only from claims.
    assert.deepEqual(parseAcrRequest(ACR_PASSWORD, JSON.stringify({ id_token: { acr: { essential: true, values: [ACR_TWO_FACTOR] } } })), { values: [ACR_TWO_FACTOR], essential: true });
  });

  it('refuses a malformed claims parameter with invalid_request', () => {
    for (const claims of ['{', '[]', '"x"', JSON.stringify({ id_token: { acr: 'x' } }), JSON.stringify({ id_token: { acr: { values: [1] } } })]) {
      assert.throws(() => parseAcrRequest(undefined, claims), (error: unknown) => error instanceof OAuthError && error.code === 'invalid_request', claims);
    }
  });

  it('ranks sign-ins: two-factor meets a request for a password, never the other way', () => {
    assert.equal(acrOf(['pwd']), ACR_PASSWORD);
    assert.equal(acrOf(['pwd', 'otp']), ACR_TWO_FACTOR);
    assert.equal(acrSatisfied({ values: [ACR_TWO_FACTOR], essential: true }, ['pwd']), false);
    assert.equal(acrSatisfied({ values: [ACR_TWO_FACTOR], essential: false }, ['pwd', 'otp']), true);
    assert.equal(acrSatisfied({ values: [ACR_PASSWORD], essential: true }, ['pwd', 'otp']), true);
    assert.equal(acrSatisfied({ values: [ACR_TWO_FACTOR, ACR_PASSWORD], essential: true }, ['pwd']), true, 'the weakest class named is enough');
    assert.equal(acrSatisfied({ values: ['urn:other:gold'], essential: false }, ['pwd']), true, 'unknown classes asked voluntarily change nothing');
    assert.equal(acrSatisfied({ values: ['urn:other:gold'], essential: true }, ['pwd', 'otp']), false, 'an essential unknown class cannot be met');
    assert.equal(acrSatisfied({ values: [], essential: true }, ['pwd']), true, 'an essential acr with no values only asks for the claim');
  });
});
