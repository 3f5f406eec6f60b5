/**
 * The front's discovery documents, built from a region's: the issuer is already the front (every
 * region is configured with it), and every endpoint moves to the front, so a client that discovered
 * the front never talks to one region directly.
 */
import type { JWK } from 'jose';
import type { Region } from '../../config.js';
import type { Metadata } from '../../core/oauth/discovery.js';
import type { DeploymentFields } from '../../core/oauth/deployment-fields.js';
import { ENDPOINTS } from '../../core/endpoints.js';

/**
 * The paths the front relays. Not the verification page: it is a region's own page, where the user
 * signs in to that region, so the device authorization endpoint's `verification_uri` names the
 * region that issued the code (docs/regions.md). Nor a client's display data, which the front asks
 * the regions for itself (app-identity.ts).
 */
const NOT_RELAYED: readonly string[] = [ENDPOINTS.deviceVerification, ENDPOINTS.clientDisplay];
const FRONT_PATHS: readonly string[] = Object.values(ENDPOINTS).filter((path) => !NOT_RELAYED.includes(path));
/** What a region says about itself, which the region-agnostic front must not repeat. */
const REGION_ONLY: ReadonlyArray<keyof DeploymentFields> = ['region', 'base_url'];

export class RegionMetadataError extends Error {}

export function frontMetadata(regional: Metadata, region: Region, frontIssuer: string): Metadata {
  if (regional.issuer !== frontIssuer) {
    // A region configured with another issuer would make clients reject every authorization response.
    throw new RegionMetadataError(`region ${region.name} announces issuer ${String(regional.issuer)}, not the front's`);
  }
  const metadata: Metadata = {};
  for (const [name, value] of Object.entries(regional)) {
    if ((REGION_ONLY as string[]).includes(name)) continue;
    if (typeof value === 'string' && value.startsWith(`${region.baseUrl}/`)) {
      const path = value.slice(region.baseUrl.length);
      // A regional URL the front does not route would send every customer to one region: left out.
      if (FRONT_PATHS.includes(path)) metadata[name] = `${frontIssuer}${path}`;
      continue;
    }
    metadata[name] = value;
  }
  return metadata;
}

/** The union of every region's signing keys: each region signs ID tokens with its own. */
export function mergeJwks(keySets: Array<{ keys: JWK[] }>): { keys: JWK[] } {
  return { keys: keySets.flatMap((set) => set.keys) };
}
