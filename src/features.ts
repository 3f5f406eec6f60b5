/**
 * The capabilities built on the core, each a set of routes, discovery metadata and home-page
 * links. The server registers every one; a capability joins by adding itself to `FEATURES`.
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from './context.js';
import type { MetadataContributor } from './oauth/discovery.js';

export interface Feature {
  name: string;
  routes?(app: FastifyInstance, ctx: Context): Promise<void>;
  metadata?: MetadataContributor;
  homeLinks?: Array<{ href: string; label: string }>;
}

export const FEATURES: Feature[] = [];
