// The health check's issue: one GitHub issue per target, open while drift or a failed check lasts,
// found again by a label and a hidden marker, updated in place, and closed with a comment when clean.
import type { Logger, RepositoryIssues, RunContext } from './io.js'
import type { Settings } from './settings.js'

/** The label on every check issue (GitHub creates it on first use). */
export const checkIssueLabel = 'adf-pg-private-link'

/** The hidden first line that finds this target's issue again (one per factory and linked service). */
export function checkIssueMarker(settings: Pick<Settings, 'factory' | 'linkedService'>): string {
  const { factory, linkedService } = settings
  return `<!-- adf-pg-private-link check: ${factory.subscriptionId}/${factory.resourceGroup}/${factory.name}/${linkedService.name} -->`
}

export type CheckIssueDecision =
  | { kind: 'open' }
  | { kind: 'update'; number: number }
  | { kind: 'close'; number: number }
  | { kind: 'none' }

/**
 * What to do with the target's issue: among the open issues (newest first) the oldest one that
 * carries the marker is the target's; unhealthy opens or updates it, healthy closes it.
 */
export function decideCheckIssue(
  open: { number: number; body?: string | null }[],
  marker: string,
  healthy: boolean
): CheckIssueDecision {
  const existing = open.filter((issue) => issue.body?.startsWith(marker)).at(-1)
  if (healthy) return existing ? { kind: 'close', number: existing.number } : { kind: 'none' }
  return existing ? { kind: 'update', number: existing.number } : { kind: 'open' }
}

export interface CheckResult {
  healthy: boolean
  /** The job summary (secrets redacted): the issue's body below its marker. */
  markdown: string
  run: RunContext
}

/** HTTP statuses GitHub answers when the token may not write issues (401 is a token it refuses). */
const noPermissionStatuses = new Set([403, 404])

/**
 * Opens, updates or closes the target's issue. Never throws: a token without `issues: write` only
 * warns, naming the permission, since the findings are in the job summary and outputs too.
 */
export async function publishCheckIssue(
  issues: RepositoryIssues,
  settings: Pick<Settings, 'factory' | 'linkedService' | 'server'>,
  result: CheckResult,
  log: Logger
): Promise<void> {
  const marker = checkIssueMarker(settings)
  const { run } = result
  const seenIn = `Run [${run.runId}](${run.runUrl}) (attempt ${run.runAttempt}).`
  try {
    const decision = decideCheckIssue(
      await issues.listOpen(checkIssueLabel),
      marker,
      result.healthy
    )
    const body = `${marker}\n_Last checked in ${seenIn} This issue is closed by the first check that finds the target healthy._\n\n${result.markdown}`
    switch (decision.kind) {
      case 'open': {
        const title = `Private link from data factory ${settings.factory.name} to server ${settings.server.name} is unhealthy (linked service ${settings.linkedService.name})`
        const number = await issues.create(title, body, checkIssueLabel)
        log.info(`Opened issue #${number} in ${issues.repository} with the findings.`)
        break
      }
      case 'update':
        await issues.update(decision.number, body)
        log.info(`Updated issue #${decision.number} in ${issues.repository} with the findings.`)
        break
      case 'close':
        await issues.comment(decision.number, `The target is healthy again: ${seenIn}`)
        await issues.close(decision.number)
        log.info(`Closed issue #${decision.number} in ${issues.repository}: healthy again.`)
        break
      case 'none':
        break
    }
  } catch (error) {
    const status = (error as { status?: number }).status
    const why =
      status === 401
        ? "GitHub refused the token itself (401): check 'github-token' (an expired or mistyped token)"
        : noPermissionStatuses.has(status ?? 0)
          ? "the token may not write issues: add 'permissions: issues: write' to the job"
          : `GitHub answered: ${error instanceof Error ? error.message : String(error)}`
    log.warning(`Could not keep the check's issue in ${issues.repository}: ${why}.`)
  }
}
