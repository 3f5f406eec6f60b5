/** POST /api/alerts/github: GitHub's secret-scanning partner alerts. */
import type { FastifyInstance } from 'fastify';
import type { PlatformContext } from '../../platform/context.js';
import { OAuthError } from '../../core/oauth/errors.js';
import { githubPublicKeys, parseReport, revokeReportedTokens, verifySignature } from '../../platform/secret-scanning.js';
import { noStore } from '../oauth-reply.js';
import { rateLimited } from '../rate-limits.js';

/** 1000 matches of a few hundred bytes each, well above the application's default limit. */
const REPORT_BODY_LIMIT = 1024 * 1024;

export async function secretScanningRoutes(app: FastifyInstance, ctx: PlatformContext): Promise<void> {
  const keys = githubPublicKeys(ctx.config.secretScanningKeysUrl, () => ctx.now());
  // Encapsulated so only this route keeps JSON as raw bytes: the signature covers them exactly.
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: REPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));
    scope.post('/api/alerts/github', { config: rateLimited(ctx, 'secret_scanning'), bodyLimit: REPORT_BODY_LIMIT }, async (request, reply) => {
      const keyIdentifier = request.headers['github-public-key-identifier'];
      const signature = request.headers['github-public-key-signature'];
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (typeof keyIdentifier !== 'string' || typeof signature !== 'string' || !(await verifySignature(keys, body, keyIdentifier, signature))) {
        throw new OAuthError('invalid_request', 'the request is not signed by a GitHub secret-scanning key', 401);
      }
      const verdicts = await revokeReportedTokens(ctx, parseReport(body), { ip: request.ip });
      return noStore(reply).send(verdicts);
    });
  });
}
