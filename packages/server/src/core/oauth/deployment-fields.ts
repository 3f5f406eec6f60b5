/**
 * What a regional deployment says about itself in discovery and in token responses: its region and
 * the base URL its pages and platform API live at, so a client that signed a user in through the
 * region-agnostic front knows where that user's data is. A single-region deployment adds nothing.
 */
import type { Config } from '../../config.js';

export interface DeploymentFields {
  region?: string;
  base_url?: string;
}

export function deploymentFields(config: Config): DeploymentFields {
  return config.region ? { region: config.region.name, base_url: config.region.baseUrl } : {};
}
