/**
 * Scope-aware project discovery: read exactly what the grant covers, and let one organization or
 * project that fails to load (a 403, a 404) be recorded without stopping the rest.
 */
import { SignedOutError, TesseraError } from './errors.js';
import type { AccessLevel, StoredTokens } from './token-store.js';

export interface Organization {
  id: string;
  name: string;
  created_at: string;
}

export interface Project {
  id: string;
  organization_id: string;
  name: string;
  created_at: string;
}

export interface DiscoveryFailure {
  /** What could not be read: an organization's project list, or one project. */
  kind: 'organization' | 'project';
  id: string;
  status: number | undefined;
  error: string;
  description: string | undefined;
}

export interface ProjectDiscovery {
  accessLevel: AccessLevel;
  projects: Project[];
  failures: DiscoveryFailure[];
}

type Outcome<T> = { ok: true; value: T } | { ok: false; failure: DiscoveryFailure };

/** Reads a platform API path as JSON, throwing a TesseraError for an error answer. */
export type GetJson = <T>(path: string) => Promise<T>;

export async function discoverProjects(getJson: GetJson, tokens: StoredTokens): Promise<ProjectDiscovery> {
  async function attempt<T>(kind: DiscoveryFailure['kind'], id: string, path: string): Promise<Outcome<T>> {
    try {
      return { ok: true, value: await getJson<T>(path) };
    } catch (error) {
      // Only an answer about this one resource is a per-resource failure; being signed out or
      // unreachable concerns every request.
      if (!(error instanceof TesseraError) || error instanceof SignedOutError) throw error;
      return { ok: false, failure: { kind, id, status: error.status, error: error.code, description: error.description } };
    }
  }
  const failures: DiscoveryFailure[] = [];
  const succeeded = <T>(outcomes: Outcome<T>[]): T[] =>
    outcomes.flatMap((outcome) => {
      if (outcome.ok) return [outcome.value];
      failures.push(outcome.failure);
      return [];
    });

  let projects: Project[];
  if (tokens.accessLevel === 'project') {
    const outcomes = await Promise.all(tokens.scopedProjects.map((id) => attempt<Project>('project', id, `/api/projects/${encodeURIComponent(id)}`)));
    projects = succeeded(outcomes);
  } else {
    const organizationIds =
      tokens.accessLevel === 'organization'
        ? tokens.scopedOrganizations
        : (await getJson<{ results: Organization[] }>('/api/organizations')).results.map((organization) => organization.id);
    const outcomes = await Promise.all(
      organizationIds.map((id) => attempt<{ results: Project[] }>('organization', id, `/api/organizations/${encodeURIComponent(id)}/projects`)),
    );
    projects = succeeded(outcomes).flatMap((list) => list.results);
  }
  return { accessLevel: tokens.accessLevel, projects, failures };
}
