#!/usr/bin/env node
// @ts-check
/**
 * An example command-line app on @tessera/client:
 *
 *   tessera-example login [--browser]   sign in: a code to enter on any device, or this machine's browser
 *   tessera-example whoami              GET /api/users/@me
 *   tessera-example projects            the projects the sign-in covers
 *   tessera-example logout              revoke the tokens and forget them
 *
 * Configuration comes from the environment: TESSERA_ISSUER, TESSERA_CLIENT_ID (a public client
 * registered for the device grant, the code flow with a loopback redirect, and refresh tokens), and
 * optionally TESSERA_TOKEN_FILE. Tokens are kept in that file, readable only by you, and refreshed
 * by the client as they near expiry.
 */
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SignedOutError, TesseraClient, TesseraError } from '@tessera/client';
import { signInWithBrowser } from '@tessera/client/node';
import { TokenFile } from './token-file.mjs';

const SCOPE = 'openid email user:read organization:read project:read';
/** The registered redirect URI; signInWithBrowser picks a free port for each sign-in (RFC 8252 §7.3). */
const LOOPBACK_REDIRECT = 'http://127.0.0.1/callback';

/** @param {string} name */
function required(name) {
  const value = process.env[name];
  if (!value) throw new UsageError(`set ${name}`);
  return value;
}

class UsageError extends Error {}

/**
 * Opens a URL in the user's browser: $BROWSER if set (`none` to only print it), else the
 * platform's opener. The URL is printed first, so a failure to open costs nothing.
 * @param {string} url
 */
function openInBrowser(url) {
  console.log(`Opening ${url} in your browser. If it does not open, visit that address yourself.`);
  const opener = process.env.BROWSER ?? (process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open');
  if (opener === 'none') return;
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

async function client() {
  const tokenFile = process.env.TESSERA_TOKEN_FILE ?? join(homedir(), '.config', 'tessera-example', 'tokens.json');
  return TesseraClient.discover({
    issuer: required('TESSERA_ISSUER'),
    clientId: required('TESSERA_CLIENT_ID'),
    redirectUri: LOOPBACK_REDIRECT,
    store: new TokenFile(tokenFile),
  });
}

/** @param {Response} response */
async function json(response) {
  if (!response.ok) throw new TesseraError(`http_${response.status}`, await response.text(), response.status);
  return response.json();
}

/** @type {Record<string, (tessera: TesseraClient, args: string[]) => Promise<void>>} */
const COMMANDS = {
  async login(tessera, args) {
    if (args.includes('--browser')) {
      await signInWithBrowser(tessera, { scope: SCOPE, open: openInBrowser });
    } else {
      await tessera.signInWithDeviceCode({
        scope: SCOPE,
        onCode({ userCode, verificationUri, verificationUriComplete }) {
          console.log(`To sign in, open ${verificationUri} on any device and enter the code ${userCode}`);
          if (verificationUriComplete) console.log(`(or open ${verificationUriComplete})`);
          console.log('Waiting for you to approve…');
        },
      });
    }
    const claims = await tessera.idTokenClaims();
    console.log(`Signed in as ${claims?.email ?? claims?.sub}.`);
  },

  async whoami(tessera) {
    const me = await json(await tessera.fetchApi('/api/users/@me'));
    console.log(`${me.email} (${me.id})`);
  },

  async projects(tessera) {
    const { projects, failures } = await tessera.discoverProjects();
    for (const project of projects) console.log(`${project.id}  ${project.name}`);
    if (!projects.length) console.log('No projects.');
    for (const failure of failures) console.error(`could not read ${failure.kind} ${failure.id}: ${failure.error}`);
  },

  async logout(tessera) {
    await tessera.revoke();
    console.log('Signed out.');
  },
};

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const run = command && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) throw new UsageError('usage: tessera-example login [--browser] | whoami | projects | logout');
  await run(await client(), args);
}

main().catch((error) => {
  if (error instanceof SignedOutError) console.error('Not signed in. Run: tessera-example login');
  else if (error instanceof TesseraError) console.error(`${error.code}${error.description ? `: ${error.description}` : ''}`);
  else console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = 1;
});
