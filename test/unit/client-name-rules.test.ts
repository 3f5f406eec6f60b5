/**
 * The client-name rule that apps, dynamic registration and CIMD share: a name is shown after NFKC,
 * may not hide invisible or direction-changing characters, and may not look like the platform's
 * name, "official" or "verified" (compared by their Unicode TS #39 confusable skeletons).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../packages/server/src/config.js';
import { clientFromDocument } from '../../packages/server/src/core/clients/cimd/document.js';
import { validateClientMetadata } from '../../packages/server/src/core/clients/dynamic-registration.js';
import { clientNameProblem, normalizeClientName } from '../../packages/server/src/core/clients/metadata-rules.js';
import { OAuthError } from '../../packages/server/src/core/oauth/errors.js';
import { platformScopes } from '../../packages/server/src/platform/scopes.js';

const PLATFORM = 'Tessera';
const config = loadConfig({ TESSERA_PLATFORM_NAME: PLATFORM });
const rules = { platformName: config.platformName, scopes: platformScopes };
const CIMD_ID = 'https://app.example.com/oauth/client.json';
const REDIRECTS = ['https://app.example.com/callback'];

/** The problem each way in finds with a name; undefined when all three accept it. */
function problems(name: string): Array<string | undefined> {
  const refusal = (run: () => unknown) => {
    try {
      run();
      return undefined;
    } catch (error) {
      assert.ok(error instanceof OAuthError, String(error));
      return error.description;
    }
  };
  return [
    clientNameProblem(name, PLATFORM),
    refusal(() => validateClientMetadata({ client_name: name, redirect_uris: REDIRECTS }, rules)),
    refusal(() => clientFromDocument(CIMD_ID, { client_id: CIMD_ID, client_name: name, redirect_uris: REDIRECTS }, rules)),
  ];
}

describe('client names that pass for the platform', () => {
  const lookAlikes: Array<[string, string, RegExp]> = [
    ['a Cyrillic letter', 'T\u0435ssera Sync', /must not contain .*"Tessera"/],
    ['a Cyrillic capital', '\u0422essera', /must not contain .*"Tessera"/],
    ['a zero-width space', 'Tes\u200Bsera', /invisible or direction-changing/],
    ['a soft hyphen', 'Tes\u00ADsera', /invisible or direction-changing/],
    ['a zero-width joiner', 'Tesse\u200Dra', /invisible or direction-changing/],
    ['fullwidth letters', '\uFF34\uFF45\uFF53\uFF53\uFF45\uFF52\uFF41', /must not contain .*"Tessera"/],
    ['a right-to-left override that displays as the name', '\u202Earesset', /invisible or direction-changing/],
    ['a left-to-right isolate', 'Notebook \u2066Sync\u2069', /invisible or direction-changing/],
    ['"Official" with a Greek capital omicron', '\u039Ffficial Notebook', /must not contain "official"/],
    ['"official" in capitals', 'OFFICIAL Notebook', /must not contain "official"/],
    ['"official" with a digit zero', '0fficial Notebook', /must not contain "official"/],
    ['"verified" with a Cyrillic e', 'V\u0435rified Sync', /must not contain .*"verified"/],
    ['the name in mathematical letters', '\uD835\uDC13\uD835\uDC1E\uD835\uDC2C\uD835\uDC2C\uD835\uDC1E\uD835\uDC2B\uD835\uDC1A', /must not contain .*"Tessera"/],
    ['a control character', 'Notebook\u0007', /invisible or direction-changing/],
  ];
  for (const [what, name, reason] of lookAlikes) {
    it(`refuses ${what} everywhere`, () => {
      for (const [index, problem] of problems(name).entries()) assert.match(problem ?? 'accepted', reason, `${['rule', 'dynamic registration', 'CIMD'][index]}: ${JSON.stringify(name)}`);
    });
  }

  it('accepts ordinary names in any script', () => {
    for (const name of ['Notebook Sync', 'Moderna Charts', 'Café Stats', 'Übersicht', 'データ連携', 'Статистика', 'Ελληνικά', 'R2-D2 Exporter']) {
      assert.deepEqual(problems(name), [undefined, undefined, undefined], name);
    }
  });

  it('keeps the name as NFKC shows it, which is what was checked', () => {
    assert.equal(normalizeClientName('  \uFF2E\uFF4F\uFF54\uFF45\uFF42\uFF4F\uFF4F\uFF4B  '), 'Notebook');
    assert.equal(validateClientMetadata({ client_name: '\uFB01le sync', redirect_uris: REDIRECTS }, rules).clientName, 'file sync');
    assert.equal(clientFromDocument(CIMD_ID, { client_id: CIMD_ID, client_name: '\uFF2E\uFF4F\uFF54\uFF45', redirect_uris: REDIRECTS }, rules).name, 'Note');
  });
});
