// Plan on pull requests: one comment per target on the pull request, found again by a hidden marker
// and updated in place, so a team reviews infrastructure changes where it reviews code.
import type { Logger, PullRequestComments } from './io.js'
import type { Settings } from './settings.js'

/** The hidden first line that finds this target's comment again (one comment per factory and linked service). */
export function planCommentMarker(settings: Pick<Settings, 'factory' | 'linkedService'>): string {
  const { factory, linkedService } = settings
  return `<!-- adf-pg-private-link plan: ${factory.subscriptionId}/${factory.resourceGroup}/${factory.name}/${linkedService.name} -->`
}

export type PlanCommentDecision = { kind: 'create' } | { kind: 'update'; id: number }

/** Update the comment that carries the marker (the oldest, if several), else create one. */
export function decidePlanComment(
  comments: { id: number; body?: string }[],
  marker: string
): PlanCommentDecision {
  const existing = comments.find((comment) => comment.body?.startsWith(marker))
  return existing ? { kind: 'update', id: existing.id } : { kind: 'create' }
}

/** HTTP statuses GitHub answers when the token may not write comments (read-only or fork token). */
const noPermissionStatuses = new Set([401, 403, 404])

/**
 * Writes the plan to the pull request. Never throws: a token without `pull-requests: write` (or a
 * fork's read-only token) only warns, naming the permission, since the plan is in the job summary too.
 */
export async function publishPlanComment(
  comments: PullRequestComments,
  marker: string,
  markdown: string,
  log: Logger
): Promise<void> {
  const body = `${marker}\n${markdown}`
  try {
    const decision = decidePlanComment(await comments.list(), marker)
    if (decision.kind === 'update') await comments.update(decision.id, body)
    else await comments.create(body)
    log.info(
      `${decision.kind === 'update' ? 'Updated' : 'Wrote'} the plan on pull request #${comments.number}.`
    )
  } catch (error) {
    const status = (error as { status?: number }).status
    const why = noPermissionStatuses.has(status ?? 0)
      ? "the token may not write to it: add 'permissions: pull-requests: write' to the job (a pull request from a fork gets a read-only token, so its plan stays in the job summary)"
      : `GitHub answered: ${error instanceof Error ? error.message : String(error)}`
    log.warning(`Could not write the plan on pull request #${comments.number}: ${why}.`)
  }
}
