import type { Membership } from '../../core/oauth/narrowing.js';

export interface AccessPickerProps {
  memberships: Membership[];
  requiredAccessLevel?: 'organization' | 'project' | undefined;
  projectHint?: string | undefined;
}

/**
 * The "which of your data" choice: all, specific organizations, or specific projects, over the
 * user's own memberships. Posts `access_level`, `organization_ids` and `project_ids`, which the
 * server checks against current memberships (src/oauth/consent.ts validateNarrowing).
 */
export function AccessPicker({ memberships, requiredAccessLevel, projectHint }: AccessPickerProps) {
  const defaultLevel = requiredAccessLevel ?? (projectHint ? 'project' : 'all');
  const levels = (['all', 'organization', 'project'] as const).filter((level) => !requiredAccessLevel || level === requiredAccessLevel);
  return (
    <fieldset class="access">
      <legend>Which of your data</legend>
      {levels.includes('all') && (
        <label class="choice">
          <input type="radio" name="access_level" value="all" checked={defaultLevel === 'all'} /> All organizations and projects
        </label>
      )}
      {levels.includes('organization') && (
        <div>
          <label class="choice">
            <input type="radio" name="access_level" value="organization" checked={defaultLevel === 'organization'} /> Specific organizations
          </label>
          <div class="picker">
            {memberships.map(({ organization }) => (
              <label key={organization.id} class="choice nested">
                <input type="checkbox" name="organization_ids" value={organization.id} /> {organization.name}
              </label>
            ))}
          </div>
        </div>
      )}
      {levels.includes('project') && (
        <div>
          <label class="choice">
            <input type="radio" name="access_level" value="project" checked={defaultLevel === 'project'} /> Specific projects
          </label>
          <div class="picker">
            {memberships.map(({ organization, projects }) => (
              <div key={organization.id} class="org-projects">
                <span class="muted">{organization.name}</span>
                {projects.map((project) => (
                  <label key={project.id} class="choice nested">
                    <input type="checkbox" name="project_ids" value={project.id} checked={project.id === projectHint} /> {project.name}
                  </label>
                ))}
              </div>
            ))}
          </div>
        </div>
      )}
    </fieldset>
  );
}
