// The connection test's temporary objects (linked service, dataset, pipeline): their names, the
// runner state that lists them for the post step, their removal, and the sweep of old leftovers.
import { formatDuration } from '../duration.js'
import type { FactoryList } from '../azure/gateway.js'
import { answerText, CancelledError, statusCodeOf } from '../errors.js'
import type { StateStore } from '../io.js'
import type { StepOutcome } from '../report.js'
import { cleanupOptions, requestOptions, type StepContext } from './context.js'

/** Temporary objects start with this, so teardown and people recognise them as the action's. */
const probePrefix = 'adf-pg-private-link-probe'

export function isProbe(name: string): boolean {
  return name.toLowerCase().startsWith(probePrefix)
}

export interface ProbeSet {
  linkedServices?: string[]
  datasets: string[]
  pipelines: string[]
}

export interface ProbeNames {
  linkedService: string
  dataset: string
  pipeline: string
}

/** `2026-11-30T17:20:05.123Z` → `20261130T172005Z` (Data Factory names may not hold ':' or '.'). */
function compactTime(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}

/**
 * Names unique per run, attempt and `random`. The creation time is in the name because Data
 * Factory returns no creation time for these objects, and a name is what every list answer and
 * every "delete it by hand" line shows, for any object kind.
 */
export function probeNames(
  created: Date,
  runId: string,
  runAttempt: string,
  random: string
): ProbeNames {
  const base = `${probePrefix}-${compactTime(created)}-${runId}-${runAttempt}-${random}`
  return {
    linkedService: `${base}-linkedservice`,
    dataset: `${base}-dataset`,
    pipeline: `${base}-pipeline`
  }
}

/** When a probe was created (ms since the epoch), from its name; undefined for older names. */
export function probeCreatedAt(name: string): number | undefined {
  const match = /^adf-pg-private-link-probe-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/i.exec(
    name
  )
  if (!match) return undefined
  const [, year, month, day, hour, minute, second] = match
  const time = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}Z`)
  return Number.isNaN(time) ? undefined : time
}

/**
 * The probes among `names` older than `maxAgeMs` at `now` (ms): a younger one may belong to a run
 * still going. One without a time in its name was made by an earlier version, so counts as old.
 */
export function staleProbes(names: string[], now: number, maxAgeMs: number): string[] {
  return names.filter((name) => {
    if (!isProbe(name)) return false
    const created = probeCreatedAt(name)
    return created === undefined || now - created > maxAgeMs
  })
}

/** The runner state entry listing this run's probes not yet removed. */
export const probeStateName = 'probes'

/** Reads the probe list main saved; a missing or unreadable entry lists nothing. */
export function savedProbes(state: StateStore): Required<ProbeSet> {
  const empty = { linkedServices: [], datasets: [], pipelines: [] }
  try {
    const saved = JSON.parse(state.get(probeStateName) || '{}') as Partial<ProbeSet>
    const names = (value: unknown): string[] =>
      Array.isArray(value) ? value.filter((name): name is string => isProbe(String(name))) : []
    return {
      linkedServices: names(saved.linkedServices),
      datasets: names(saved.datasets),
      pipelines: names(saved.pipelines)
    }
  } catch {
    return empty
  }
}

export function probeCount(probes: ProbeSet): number {
  return (probes.linkedServices?.length ?? 0) + probes.datasets.length + probes.pipelines.length
}

type ProbeKind = keyof ProbeSet

/** Lists a probe in the runner state before it is created, so a killed run's post step finds it. */
export function trackProbe(state: StateStore, kind: ProbeKind, name: string): void {
  const probes = savedProbes(state)
  probes[kind] = [...probes[kind].filter((known) => known !== name), name]
  state.save(probeStateName, JSON.stringify(probes))
}

/**
 * Writes one probe object: listed for the post step before the request (a run killed mid-PUT still
 * removes it), and in `made`, when given (what this run deletes afterwards), unless Azure refused the write with
 * a 4xx answer (a lock, a policy, a bad request), which creates nothing: no delete is then tried,
 * so no warning names an object that never existed. Rethrows the write's error.
 */
export async function createProbe(
  state: StateStore,
  kind: ProbeKind,
  name: string,
  write: () => Promise<unknown>,
  made?: ProbeSet
): Promise<void> {
  trackProbe(state, kind, name)
  try {
    await write()
  } catch (error) {
    const status = statusCodeOf(error)
    // 408 is a time-out: the object may exist all the same.
    const refused = status !== undefined && status >= 400 && status < 500 && status !== 408
    if (refused) untrackProbe(state, kind, name)
    else if (made) made[kind] = [...(made[kind] ?? []), name]
    throw error
  }
  if (made) made[kind] = [...(made[kind] ?? []), name]
}

function untrackProbe(state: StateStore, kind: ProbeKind, name: string): void {
  const probes = savedProbes(state)
  if (!probes[kind].includes(name)) return // an earlier run's leftover: never listed here
  probes[kind] = probes[kind].filter((known) => known !== name)
  state.save(probeStateName, JSON.stringify(probes))
}

/** After a cancel, removing the probes must fit the runner's 7.5 s grace. */
const probeRemovalLimitMs = 5_000

/**
 * Deletes temporary pipelines, then datasets, then linked services (each used by the next);
 * a failure only warns, naming what to delete by hand. Returns how many went.
 */
export async function removeProbes(context: StepContext, probes: ProbeSet): Promise<number> {
  const { azure } = context
  const options = cleanupOptions(context, probeRemovalLimitMs)
  const deletions = [
    ...probes.pipelines.map((name) => ({
      kind: 'pipelines' as const,
      name,
      what: `delete the temporary pipeline '${name}'`,
      call: () => azure.deletePipeline(name, options)
    })),
    ...probes.datasets.map((name) => ({
      kind: 'datasets' as const,
      name,
      what: `delete the temporary dataset '${name}'`,
      call: () => azure.deleteDataset(name, options)
    })),
    ...(probes.linkedServices ?? []).map((name) => ({
      kind: 'linkedServices' as const,
      name,
      what: `delete the temporary linked service '${name}'`,
      call: () => azure.deleteLinkedService(name, options)
    }))
  ]
  let removed = 0
  for (const { kind, name, what, call } of deletions) {
    if (await bestEffort(context, what, call)) {
      untrackProbe(context.state, kind, name)
      removed++
    }
  }
  return removed
}

/** Runs `call`; a failure only warns. Returns whether it succeeded. */
async function bestEffort(
  context: StepContext,
  what: string,
  call: () => Promise<void>
): Promise<boolean> {
  try {
    await call()
    return true
  } catch (error) {
    context.log.warning(
      `Could not ${what} in factory '${context.settings.factory.name}': ${answerText(error)}. The post step and later runs retry; or delete it by hand.`
    )
    return false
  }
}

/** The probes of the factory older than the step's `timeout`, by kind (three list calls). */
async function listStaleProbes(context: StepContext): Promise<Required<ProbeSet>> {
  const { settings, azure } = context
  const options = requestOptions(context)
  const stale = async (list: FactoryList): Promise<string[]> =>
    staleProbes(
      (await azure.listRaw(list, options)).map((item) =>
        String((item as { name?: unknown }).name ?? '')
      ),
      Date.now(),
      settings.timeoutMs
    )
  // Three independent lists: read at once.
  const [pipelines, datasets, linkedServices] = await Promise.all([
    stale('pipelines'),
    stale('datasets'),
    stale('linkedservices')
  ])
  return { pipelines, datasets, linkedServices }
}

/**
 * Removes the probes earlier runs left behind (killed, or their deletes failed) that are older
 * than the step's `timeout` input: a younger one may belong to a run still going. Best effort:
 * a failure to list or delete only warns (the connection test does not depend on it).
 */
export async function sweepStaleProbes(context: StepContext): Promise<StepOutcome<void>> {
  const age = `older than timeout (${formatDuration(context.settings.timeoutMs)})`
  let stale: Required<ProbeSet>
  try {
    stale = await listStaleProbes(context)
  } catch (error) {
    if (error instanceof CancelledError) throw error
    const message = error instanceof Error ? error.message : String(error)
    context.log.warning(`Could not look for connection-test leftovers: ${message}`)
    return { value: undefined, found: 'could not list (see the warning)', done: 'skipped' }
  }
  const count = probeCount(stale)
  if (count === 0)
    return {
      value: undefined,
      found: `no connection-test leftovers ${age}`,
      done: 'nothing to remove'
    }
  const removed = await removeProbes(context, stale)
  return {
    value: undefined,
    found: `${count} connection-test leftover(s) ${age}`,
    done:
      removed === count ? `removed ${removed}` : `removed ${removed} of ${count} (see the warnings)`
  }
}
