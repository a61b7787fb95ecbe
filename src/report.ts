// The one place that knows the outputs and the job summary: steps record what they found and
// changed here, and `publish` writes it all (called from a `finally`, so failures get a summary too).
import { formatDuration } from './duration.js'
import { ActionError, CancelledError } from './errors.js'
import { explain, hintOf } from './failures.js'
import type { Logger, OutputWriter, SecretMasker, SummaryWriter } from './io.js'
import { writesNothing, type Mode } from './settings.js'
import { WaitTimeoutError } from './waiting.js'

/** Past tense for what apply did; present tense for what plan would do. */
export type ChangeAction =
  | 'created'
  | 'updated'
  | 'approved'
  | 'deleted'
  | 'recreated'
  | 'replaced'
  | 'create'
  | 'update'
  | 'approve'
  | 'delete'
  | 'recreate'
  | 'replace'

export interface Change {
  action: ChangeAction
  /** The kind of resource: managed-private-endpoint, private-endpoint-connection, linked-service. */
  resource: string
  id: string
  /** For updates: the fields that differ. */
  fields?: string[]
  /** For recreate/replace: why. */
  reason?: string
}

export const outputNames = [
  'private-endpoint-id',
  'private-endpoint-name',
  'provisioning-state',
  'connection-state',
  'private-endpoint-connection-id',
  'server-fqdn',
  'linked-service-id',
  'linked-service-name',
  'connection-test',
  'connection-test-run-id',
  'changed',
  'changes',
  'export-files',
  'healthy',
  'drift',
  'findings',
  'approved-connections'
] as const

export type OutputName = (typeof outputNames)[number]
/** Outputs the steps fill in; the others come from the recorded changes and the failure. */
export type ObservedOutput = Exclude<
  OutputName,
  'changed' | 'changes' | 'healthy' | 'drift' | 'findings'
>

/** One thing wrong with the target, as the `findings` output lists it. */
export interface Finding {
  /** drift: a change apply would make (or, in apply, had to make); failure: what ended the run. */
  kind: 'drift' | 'failure'
  resource: string
  id: string
  detail: string
}

/** What steps write to while they work. */
export interface Ledger {
  readonly mode: Mode
  /** Records a change and logs it at once. */
  change(change: Change): void
  output(name: ObservedOutput, value: string): void
  /**
   * Records a failure the step worked around by waiting (approve refused: someone else must);
   * if the step's wait then times out, this failure is what the run reports as its cause.
   */
  obstacle(error: ActionError): void
  /** Records a warning the user must act on: logged now, listed under the summary's Notes. */
  note(text: string): void
  /** Whether the run has changed (or, in plan, would change) anything so far. */
  readonly changed: boolean
}

/** What a step returns: its value for later steps, and one line each for the summary. */
export interface StepOutcome<T> {
  value: T
  found: string
  done: string
}

export type StepStatus = 'succeeded' | 'failed' | 'cancelled'

export interface StepRecord {
  name: string
  status: StepStatus
  found: string
  done: string
  durationMs: number
  changes: Change[]
}

export interface Failure {
  step?: string
  cancelled: boolean
  message: string
  hint?: string
}

/** GitHub refuses step summaries over 1 MiB; stay well below. */
const summaryByteLimit = 1_000_000
const cellCharLimit = 2_000

export class RunReport implements Ledger {
  private readonly outputs = new Map<ObservedOutput, string>([
    ['connection-test', 'skipped'],
    ['export-files', '[]'],
    ['approved-connections', '[]']
  ])
  private readonly notes: string[] = []
  private readonly changes: Change[] = []
  private readonly steps: StepRecord[] = []
  private failure?: Failure
  private obstacles: ActionError[] = []

  constructor(
    readonly mode: Mode,
    private readonly log: Logger,
    private readonly now: () => number = Date.now
  ) {}

  get changed(): boolean {
    return this.changes.length > 0
  }

  change(change: Change): void {
    this.changes.push(change)
    this.log.info(changeLine(change, this.mode))
  }

  obstacle(error: ActionError): void {
    this.obstacles.push(error)
  }

  note(text: string): void {
    this.notes.push(text)
    this.log.warning(text)
  }

  output(name: ObservedOutput, value: string): void {
    this.outputs.set(name, value)
  }

  /** Runs one step, timing it and recording its outcome or its failure. */
  async step<T>(name: string, run: () => Promise<StepOutcome<T>>): Promise<T> {
    const started = this.now()
    const changesBefore = this.changes.length
    this.obstacles = []
    try {
      const outcome = await run()
      this.steps.push({
        name,
        status: 'succeeded',
        found: outcome.found,
        done: outcome.done,
        durationMs: this.now() - started,
        changes: this.changes.slice(changesBefore)
      })
      return outcome.value
    } catch (error) {
      const cancelled = error instanceof CancelledError
      this.steps.push({
        name,
        status: cancelled ? 'cancelled' : 'failed',
        found: '',
        done: cancelled ? 'cancelled' : 'failed',
        durationMs: this.now() - started,
        changes: this.changes.slice(changesBefore)
      })
      this.fail(this.blamed(error), name)
      throw error
    }
  }

  /** A wait that timed out behind an obstacle failed because of that obstacle. */
  private blamed(error: unknown): unknown {
    const [obstacle] = this.obstacles
    if (!(error instanceof WaitTimeoutError) || !obstacle) return error
    return new ActionError(
      `${error.message}\nIt could only end by someone else: ${obstacle.message}`,
      {
        resource: obstacle.resource,
        cause: error,
        hint: obstacle.hint
      }
    )
  }

  /** Records the error that ended the run (the first one wins). */
  fail(error: unknown, step?: string): void {
    if (this.failure) return
    const message = error instanceof Error ? error.message : String(error)
    const known = error instanceof ActionError ? error.hint : undefined
    this.failure = {
      step,
      cancelled: error instanceof CancelledError,
      message,
      // Every failure gets a likely cause and fix: the catalogue's fallback when none is known.
      hint: known ?? hintOf(explain({ area: 'resource-manager', message }))
    }
  }

  get failed(): Failure | undefined {
    return this.failure
  }

  outputValues(): Record<OutputName, string> {
    const values = Object.fromEntries(outputNames.map((name) => [name, ''])) as Record<
      OutputName,
      string
    >
    for (const [name, value] of this.outputs) values[name] = value
    values.changed = String(this.changes.length > 0)
    values.changes = JSON.stringify(this.changes)
    // A health verdict is what check is for; other modes leave these empty (as action.yml says).
    if (this.mode !== 'check') return values
    const findings = this.findings()
    values.drift = values.changed
    values.healthy = String(findings.length === 0)
    values.findings = JSON.stringify(findings)
    return values
  }

  /** What is wrong: each change (made or planned), then the failure that ended the run, if any. */
  findings(): Finding[] {
    const drift = this.changes.map((change): Finding => ({
      kind: 'drift',
      resource: change.resource,
      id: change.id,
      detail: [change.action, changeDetails(change)].filter(Boolean).join('; ')
    }))
    if (!this.failure) return drift
    const failure: Finding = {
      kind: 'failure',
      resource: this.failure.step ?? 'run',
      id: '',
      detail: this.failure.message
    }
    return [...drift, failure]
  }

  summaryMarkdown(): string {
    // A check that ran to the end says what it found: drift is no success (fail-on-drift may fail the job).
    const checked = this.mode === 'check' && !this.failure
    const verdict = checked
      ? this.changes.length
        ? 'found drift'
        : 'succeeded: healthy'
      : !this.failure
        ? 'succeeded'
        : this.failure.cancelled
          ? 'cancelled'
          : 'failed'
    const lines = [`## adf-pg-private-link: ${this.mode} ${verdict}`, '']
    if (writesNothing(this.mode)) {
      const tested = this.mode === 'check' ? ' but the connection test' : ''
      lines.push(
        this.changes.length
          ? `Apply would make ${this.changes.length} change(s); nothing was written${tested}.`
          : `Apply would change nothing; nothing was written${tested}.`,
        ''
      )
    }
    if (this.steps.length) lines.push('| Step | Found | Done | Took |', '| --- | --- | --- | --- |')
    for (const step of this.steps) {
      const icon = step.status === 'succeeded' ? '✅' : step.status === 'cancelled' ? '⏹️' : '❌'
      lines.push(
        `| ${icon} ${cell(step.name)} | ${cell(step.found)} | ${cell(step.done)} | ${formatDuration(step.durationMs)} |`
      )
    }
    if (this.changes.length) {
      lines.push('', `### ${writesNothing(this.mode) ? 'Planned changes' : 'Changes'}`, '')
      lines.push('| Action | Resource | Id | Details |', '| --- | --- | --- | --- |')
      for (const change of this.changes) {
        const details = changeDetails(change)
        lines.push(
          `| ${change.action} | ${cell(change.resource)} | ${cell(change.id)} | ${cell(details)} |`
        )
      }
    }
    if (this.notes.length) {
      lines.push('', '### Notes', '', ...this.notes.map((note) => `- ⚠️ ${note}`))
    }
    if (this.failure) {
      lines.push('', '### What failed', '', quote(this.failure.message))
      if (this.failure.hint) lines.push('', `**Likely cause and fix:** ${plain(this.failure.hint)}`)
    }
    return fitSummary(lines.join('\n') + '\n')
  }

  /** Writes every output and the summary, with masked secrets removed. */
  async publish(
    outputs: OutputWriter,
    summary: SummaryWriter,
    secrets: SecretMasker
  ): Promise<void> {
    for (const [name, value] of Object.entries(this.outputValues())) {
      outputs.set(name, secrets.redact(value))
    }
    await summary.write(secrets.redact(this.summaryMarkdown()))
  }
}

/** A change's fields and reason, as the log, the summary and the findings show them ('' for none). */
function changeDetails(change: Change): string {
  return [change.fields?.length ? `fields: ${change.fields.join(', ')}` : '', change.reason ?? '']
    .filter(Boolean)
    .join('; ')
}

/** The log line of a change: "Created linked-service <id>" (plan: "Plan: create …"). */
export function changeLine(change: Change, mode: Mode): string {
  const details = changeDetails(change)
  const what = `${change.resource} ${change.id}${details ? ` (${details})` : ''}`
  return writesNothing(mode)
    ? `Plan: ${change.action} ${what}`
    : `${change.action[0].toUpperCase()}${change.action.slice(1)} ${what}`
}

/** Text from Azure or the inputs, shown as text: no HTML or markup of its own reaches the summary. */
function plain(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function cell(text: string): string {
  const flat = plain(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
  return flat.length > cellCharLimit ? `${flat.slice(0, cellCharLimit)}…` : flat
}

function quote(text: string): string {
  return plain(text)
    .split('\n')
    .map((line) => `> ${line}`)
    .join('\n')
}

/** Cuts the summary to the byte limit, saying so. */
export function fitSummary(markdown: string, limit = summaryByteLimit): string {
  if (Buffer.byteLength(markdown) <= limit) return markdown
  const notice = '\n\n_(summary truncated to stay under GitHub’s 1 MiB limit)_\n'
  const budget = limit - Buffer.byteLength(notice)
  let cut = markdown.slice(0, budget)
  while (Buffer.byteLength(cut) > budget) cut = cut.slice(0, -1024)
  return cut + notice
}
