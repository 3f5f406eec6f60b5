/**
 * The verifier's adapters in real apps: a Fastify app (`@tessera/resource-server/fastify`) and an
 * Express app (`@tessera/resource-server/express`), each serving its RFC 9728 metadata and two
 * protected routes, called with tokens a real Tessera issued for them (RFC 8707 resource), checked
 * by introspection. The same requests get the same answers from both.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { BearerError, checkProjectAccess, createVerifier, type Verifier } from '../../packages/resource-server/src/index.js';
import * as expressAdapter from '../../packages/resource-server/src/express.js';
import * as fastifyAdapter from '../../packages/resource-server/src/fastify.js';
import { sqliteTarget } from '../support/database.js';
import { TestOAuthClient } from '../support/oauth-client.js';
import { PASSWORD, seedClient, seedOrganization, seedUser } from '../support/seed.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { UserAgent, type ConsentChoice } from '../support/user-agent.js';

const REDIRECT_URI = 'http://127.0.0.1:7777/callback';
const PROJECT_ORGANIZATION = 'org_of_the_app';

function fastifyApp(verifier: Verifier): FastifyInstance {
  const app = Fastify();
  app.setErrorHandler((error, _request, reply) => (error instanceof BearerError ? fastifyAdapter.sendBearerError(reply, error) : reply.send(error)));
  app.get(new URL(verifier.resourceMetadataUrl).pathname, async () => verifier.protectedResourceMetadata({ scopes_supported: ['project:read'] }));
  app.get('/api/notes', { preHandler: fastifyAdapter.bearerAuth(verifier, { scopes: ['project:read'] }) }, async (request) => ({ sub: request.auth!.sub }));
  app.get<{ Params: { id: string } }>('/api/projects/:id', { preHandler: fastifyAdapter.bearerAuth(verifier) }, async (request) => {
    checkProjectAccess(request.auth!, { id: request.params.id, organizationId: PROJECT_ORGANIZATION });
    return { project: request.params.id };
  });
  return app;
}

function expressApp(verifier: Verifier): express.Express {
  const app = express();
  app.get(new URL(verifier.resourceMetadataUrl).pathname, (_request, response) => void response.json(verifier.protectedResourceMetadata({ scopes_supported: ['project:read'] })));
  app.get('/api/notes', expressAdapter.bearerAuth(verifier, { scopes: ['project:read'] }), (request, response) => void response.json({ sub: request.auth!.sub }));
  app.get('/api/projects/:id', expressAdapter.bearerAuth(verifier), (request, response) => {
    const id = String(request.params.id);
    checkProjectAccess(request.auth!, { id, organizationId: PROJECT_ORGANIZATION });
    response.json({ project: id });
  });
  app.use(expressAdapter.bearerErrorHandler());
  return app;
}

describe('resource-server adapters in a Fastify and an Express app', () => {
  let tessera: TestServer;
  let fastify: FastifyInstance;
  let expressServer: Server;
  const apps: Record<'fastify' | 'express', string> = { fastify: '', express: '' };
  let issue: (resource: string, scope: string, choice?: ConsentChoice) => Promise<string>;
  let user: { id: string };
  let projects: { granted: string; other: string };

  before(async () => {
    const [fastifyPort, expressPort] = [await freePort(), await freePort()];
    apps.fastify = `http://127.0.0.1:${fastifyPort}`;
    apps.express = `http://127.0.0.1:${expressPort}`;
    tessera = await startTestServer(sqliteTarget, { TESSERA_RESOURCES: `${apps.fastify}/api,${apps.express}/api` });
    user = await seedUser(tessera.ctx);
    const seeded = await seedOrganization(tessera.ctx, user.id, 'Acme', ['Web', 'Mobile']);
    projects = { granted: seeded.projects[0]!.id, other: seeded.projects[1]!.id };
    const { client, clientSecret } = await seedClient(tessera.ctx, { redirectUris: [REDIRECT_URI] });
    const oauth = await TestOAuthClient.discover(tessera.url, { clientId: client.id, clientSecret, redirectUri: REDIRECT_URI });
    const agent = new UserAgent(tessera.url);
    await agent.signIn((await tessera.db.selectFrom('users').select('email').where('id', '=', user.id).executeTakeFirstOrThrow()).email, PASSWORD);
    issue = async (resource, scope, choice = {}) => {
      const { url, codeVerifier, state } = await oauth.authorizationUrl(scope, { resource, prompt: 'consent' });
      return (await oauth.exchange(await agent.authorize(url.href, choice), codeVerifier, state)).access_token;
    };

    const verifierFor = (app: string) => createVerifier({ issuer: tessera.url, resource: `${app}/api`, introspection: { clientId: client.id, clientSecret: clientSecret! } });
    fastify = fastifyApp(verifierFor(apps.fastify));
    await fastify.listen({ port: fastifyPort, host: '127.0.0.1' });
    expressServer = expressApp(verifierFor(apps.express)).listen(expressPort, '127.0.0.1');
    await new Promise((resolve) => expressServer.once('listening', resolve));
  });
  after(async () => {
    await fastify?.close();
    await new Promise((resolve) => expressServer?.close(resolve));
    await tessera?.close();
  });

  for (const name of ['fastify', 'express'] as const) {
    describe(name, () => {
      const api = () => `${apps[name]}/api`;
      const call = (path: string, token?: string) => fetch(`${apps[name]}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      const challenge = (response: Response) => response.headers.get('www-authenticate');

      it('lets a token for this resource with the scope through, with the principal on the request', async () => {
        const response = await call('/api/notes', await issue(api(), 'project:read'));
        assert.equal(response.status, 200);
        assert.deepEqual(await response.json(), { sub: user.id });
      });

      it('answers 401 with a challenge that leads a client to Tessera (RFC 6750, RFC 9728)', async () => {
        const response = await call('/api/notes');
        assert.equal(response.status, 401);
        const metadataUrl = /^Bearer resource_metadata="([^"]+)"$/.exec(challenge(response)!)![1]!;
        assert.equal(metadataUrl, `${apps[name]}/.well-known/oauth-protected-resource/api`);
        const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
        assert.deepEqual(metadata, { resource: api(), authorization_servers: [tessera.url], bearer_methods_supported: ['header'], scopes_supported: ['project:read'] });

        const invalid = await call('/api/notes', 'pha_not_a_real_token');
        assert.equal(invalid.status, 401);
        assert.match(challenge(invalid)!, /error="invalid_token"/);
        assert.deepEqual(await invalid.json(), { error: 'invalid_token', error_description: 'the access token is invalid, expired or revoked' });
      });

      it('refuses a token issued for the other app', async () => {
        const other = name === 'fastify' ? apps.express : apps.fastify;
        const response = await call('/api/notes', await issue(`${other}/api`, 'project:read'));
        assert.equal(response.status, 401);
        assert.match(challenge(response)!, /another resource/);
      });

      it('answers 403 insufficient_scope naming the scope the route needs', async () => {
        const response = await call('/api/notes', await issue(api(), 'user:read'));
        assert.equal(response.status, 403);
        assert.match(challenge(response)!, /error="insufficient_scope", .*scope="project:read"$/);
        assert.equal(((await response.json()) as { error: string }).error, 'insufficient_scope');
      });

      it('answers 403 access_denied from a route whose project the grant was narrowed away from', async () => {
        const token = await issue(api(), 'project:read', { access_level: 'project', project_ids: [projects.granted] });
        assert.equal((await call(`/api/projects/${projects.granted}`, token)).status, 200);
        const denied = await call(`/api/projects/${projects.other}`, token);
        assert.equal(denied.status, 403);
        assert.equal(challenge(denied), null);
        assert.deepEqual(await denied.json(), { error: 'access_denied', error_description: `this token was not granted access to project ${projects.other}` });
      });
    });
  }
});
