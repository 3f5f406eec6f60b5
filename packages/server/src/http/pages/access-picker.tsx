import type { Membership } from '../../core/oauth/narrowing.js';

/** What the user picked, as posted: shown again when the form comes back with an error. */
export interface AccessChoice {
  accessLevel: string | undefined;
  organizationIds: string[];
  projectIds: string[];
}

export interface AccessPickerProps {
  memberships: Membership[];
  requiredAccessLevel?: 'organization' | 'project' | undefined;
  projectHint?: string | undefined;
  choice?: AccessChoice | undefined;
  /** Why the last choice was refused, shown inside the fieldset and announced. */
  error?: string | undefined;
}

type Level = 'all' | 'organization' | 'project';
const LEVELS: readonly Level[] = ['all', 'organization', 'project'];

/**
 * The "which of your data" choice: all, specific organizations, or specific projects, over the
 * user's own memberships. Posts `access_level`, `organization_ids` and `project_ids`, which the
 * server checks against current memberships (core/oauth/narrowing.ts validateNarrowing). Each
 * list sits inside its option and the stylesheet shows it only while that option is chosen.
 */
export function AccessPicker({ memberships, requiredAccessLevel, projectHint, choice, error }: AccessPickerProps) {
  const levels = LEVELS.filter((level) => !requiredAccessLevel || level === requiredAccessLevel);
  const chosenLevel = levels.find((level) => level === choice?.accessLevel) ?? requiredAccessLevel ?? (projectHint ? 'project' : 'all');
  const organizationChecked = (id: string) => choice?.organizationIds.includes(id) ?? false;
  const projectChecked = (id: string) => (choice ? choice.projectIds.includes(id) : id === projectHint);
  return (
    <fieldset class={error ? 'access invalid' : 'access'} aria-describedby={error ? 'access-error' : undefined}>
      <legend>Which of your data</legend>
      {error && (
        <p id="access-error" class="field-error" role="alert">
          {error}
        </p>
      )}
      {levels.includes('all') && (
        <div class="option">
          <label class="choice">
            <input type="radio" name="access_level" value="all" checked={chosenLevel === 'all'} /> All organizations and projects
          </label>
        </div>
      )}
      {levels.includes('organization') && (
        <div class="option">
          <label class="choice">
            <input type="radio" name="access_level" value="organization" checked={chosenLevel === 'organization'} /> Specific organizations
          </label>
          <div class="picker">
            {memberships.length === 0 && <p class="muted nested">You do not belong to any organization.</p>}
            {memberships.map(({ organization }) => (
              <label key={organization.id} class="choice nested">
                <input type="checkbox" name="organization_ids" value={organization.id} checked={organizationChecked(organization.id)} /> {organization.name}
              </label>
            ))}
          </div>
        </div>
      )}
      {levels.includes('project') && (
        <div class="option">
          <label class="choice">
            <input type="radio" name="access_level" value="project" checked={chosenLevel === 'project'} /> Specific projects
          </label>
          <div class="picker">
            {memberships.every(({ projects }) => projects.length === 0) && <p class="muted nested">You do not have any projects.</p>}
            {memberships.map(({ organization, projects }) =>
              projects.length === 0 ? null : (
                <fieldset key={organization.id} class="org-projects">
                  <legend class="muted">{organization.name}</legend>
                  {projects.map((project) => (
                    <label key={project.id} class="choice nested">
                      <input type="checkbox" name="project_ids" value={project.id} checked={projectChecked(project.id)} /> {project.name}
                    </label>
                  ))}
                </fieldset>
              ),
            )}
          </div>
        </div>
      )}
    </fieldset>
  );
}
