/**
 * The device authorization grant (RFC 8628) in tests: the device (oauth4webapi's device-flow
 * functions for one client) and the user's steps at the verification page (in Chromium).
 */
import * as oauth from 'oauth4webapi';
import type { Page } from 'playwright-core';
import { PASSWORD } from './seed.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const insecure = { [oauth.allowInsecureRequests]: true } as const;

/** Discovers `issuer` (a deployment, or the region-agnostic front) and signs in through it as `clientId`. */
export async function device(issuer: string, clientId: string, clientSecret?: string) {
  const issuerUrl = new URL(issuer);
  const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { algorithm: 'oauth2', ...insecure }));
  const client: oauth.Client = { client_id: clientId };
  const auth = clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None();
  return {
    as,
    async start(scope: string) {
      const response = await oauth.deviceAuthorizationRequest(as, client, auth, { scope }, insecure);
      return oauth.processDeviceAuthorizationResponse(as, client, response);
    },
    /** One poll: the tokens, or the OAuth error code. */
    async poll(deviceCode: string): Promise<oauth.TokenEndpointResponse | string> {
      const response = await oauth.deviceCodeGrantRequest(as, client, auth, deviceCode, insecure);
      try {
        return await oauth.processDeviceCodeResponse(as, client, response);
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError) return error.error;
        throw error;
      }
    },
  };
}

/** At the sign-in page the verification page sent the user to. */
export async function signIn(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** At the verification page: types the code the device shows. */
export async function enterCode(page: Page, code: string) {
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
}
