/** Per-route rate limit settings for @fastify/rate-limit, from configuration. */
import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import type { RateLimitedEndpoint } from '../config.js';
import type { Context } from '../context.js';

/** Route `config` that limits each IP address to the configured requests per minute. */
export function rateLimited(ctx: Context, endpoint: RateLimitedEndpoint): FastifyContextConfig {
  if (!ctx.config.rateLimits.enabled) return { rateLimit: false };
  return {
    rateLimit: {
      max: ctx.config.rateLimits[endpoint],
      timeWindow: 60_000,
      keyGenerator: (request: FastifyRequest) => `${endpoint}:${request.ip}`,
    },
  };
}
