/**
 * An MCP server protected by Tessera, in a process of its own: every request to /mcp must carry a
 * Tessera access token for this server's resource, checked with @tessera/resource-server (by
 * introspection with this server's credentials, or offline for JWT access tokens). A request
 * without one gets 401 with `resource_metadata` (RFC 9728), which is how an MCP client finds
 * Tessera. The tools call the platform API for the user, with the user's token (the resource is
 * registered with --platform-api-access).
 *
 *   TESSERA_ISSUER=https://auth.example.com MCP_RESOURCE=https://mcp.example.com/mcp \
 *   MCP_CLIENT_ID=prs_… MCP_CLIENT_SECRET=prss_… PLATFORM_API=https://auth.example.com/api \
 *   PORT=3333 node --import tsx examples/mcp-server/server.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { BearerError, createVerifier, type Principal } from '@tessera/resource-server';
import { z } from 'zod';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const resource = env('MCP_RESOURCE');
const platformApi = env('PLATFORM_API');
const clientId = process.env.MCP_CLIENT_ID;
const clientSecret = process.env.MCP_CLIENT_SECRET;
const verifier = createVerifier({
  issuer: env('TESSERA_ISSUER'),
  resource,
  // Without credentials only JWT access tokens are accepted.
  ...(clientId && clientSecret ? { introspection: { clientId, clientSecret } } : {}),
  cacheMs: Number(process.env.MCP_CACHE_MS ?? 1000),
});
const SCOPES = ['user:read', 'organization:read'];

/** The platform API, called as the user with the token the MCP client sent. */
async function callPlatform(token: string, path: string): Promise<{ content: Array<{ type: 'text'; text: string }>; isError?: boolean }> {
  const response = await fetch(`${platformApi}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await response.text();
  return response.ok ? { content: [{ type: 'text', text }] } : { content: [{ type: 'text', text: `the platform API answered ${response.status}: ${text}` }], isError: true };
}

/** One MCP server per request (stateless Streamable HTTP): its tools act for the request's principal. */
function mcpServerFor(token: string, principal: Principal): McpServer {
  const server = new McpServer({ name: 'tessera-example', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The signed-in user, as the platform API knows them' }, () => callPlatform(token, '/users/@me'));
  server.registerTool(
    'list_organizations',
    { description: 'The organizations this app may read', inputSchema: { limit: z.number().int().positive().optional() } },
    async ({ limit }) => {
      const result = await callPlatform(token, '/organizations');
      if (result.isError || limit === undefined) return result;
      const { results } = JSON.parse(result.content[0]!.text) as { results: unknown[] };
      return { content: [{ type: 'text', text: JSON.stringify({ organizations: results.slice(0, limit), access_level: principal.accessLevel }) }] };
    },
  );
  return server;
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
}

const metadataPath = new URL(verifier.resourceMetadataUrl).pathname;
const mcpPath = new URL(resource).pathname;

const http = createServer(async (request, response) => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  try {
    if (request.method === 'GET' && path === metadataPath) {
      return sendJson(response, 200, verifier.protectedResourceMetadata({ scopes_supported: SCOPES, resource_name: 'Tessera example MCP server' }));
    }
    if (path !== mcpPath) return sendJson(response, 404, { error: 'not_found' });
    const authorization = request.headers.authorization;
    const principal = await verifier.verify(authorization);
    verifier.requireScopes(principal, SCOPES);
    const token = authorization!.replace(/^Bearer +/i, '').trim();
    const server = mcpServerFor(token, principal);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(request, response, request.method === 'POST' ? await readJson(request) : undefined);
  } catch (error) {
    if (error instanceof BearerError) return sendJson(response, error.status, error.toJSON(), error.headers);
    console.error(error);
    if (!response.headersSent) sendJson(response, 500, { error: 'server_error' });
  }
});

const port = Number(process.env.PORT ?? 3333);
http.listen(port, '127.0.0.1', () => console.log(`mcp server listening on http://127.0.0.1:${port}${mcpPath}`));
process.on('SIGTERM', () => http.close(() => process.exit(0)));
