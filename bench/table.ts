// Prints a benchmark result: one row per path and side (medians over rounds), the action/CLI ratios,
// and how long each side took to notice each state change.
import type { BenchResult, BenchSide, Measurement } from './bench.js'
import { pathLabels, stateChangesOf, type BenchPath } from './scenario.js'

const paths: BenchPath[] = ['fresh', 'noop', 'test']
const sides: BenchSide[] = ['action', 'az resource create', 'az rest', 'az CLI']
const methods = ['GET', 'PUT', 'POST', 'DELETE']

export const tableColumns = [
  'path',
  'side',
  'runs',
  'wall s',
  'inherent s',
  'overhead s',
  'overhead %',
  ...methods,
  'sign-in',
  'processes',
  'start→1st request ms',
  'notice median s',
  'notice max s'
] as const

export interface TableRow {
  path: BenchPath
  side: BenchSide
  /** Numbers by column name (NaN where a figure does not apply, e.g. no state change on the path). */
  figures: Record<string, number>
}

function median(values: number[]): number {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (finite.length === 0) return Number.NaN
  const middle = Math.floor(finite.length / 2)
  return finite.length % 2 ? finite[middle] : (finite[middle - 1] + finite[middle]) / 2
}

/** Medians over rounds; notice lags pooled over every state change of every round. */
export function tableRows(result: BenchResult): TableRow[] {
  return paths.flatMap((path) =>
    sides.flatMap((side) => {
      const runs = result.measurements.filter((m) => m.path === path && m.side === side)
      if (runs.length === 0) return []
      const of = (pick: (m: Measurement) => number) => median(runs.map(pick))
      const lags = runs.flatMap((m) => m.noticeLagMs.map((notice) => notice.lagMs))
      const wall = of((m) => m.wallMs)
      const overhead = of((m) => m.wallMs - m.inherentMs)
      const figures: Record<string, number> = {
        runs: runs.length,
        'wall s': wall / 1000,
        'inherent s': of((m) => m.inherentMs) / 1000,
        'overhead s': overhead / 1000,
        'overhead %': (100 * overhead) / wall,
        ...Object.fromEntries(
          methods.map((method) => [method, of((m) => m.armRequests[method] ?? 0)])
        ),
        'sign-in': of((m) => m.signInRequests),
        processes: of((m) => m.processes),
        'start→1st request ms': median(runs.flatMap((m) => m.firstRequestMs)),
        'notice median s': median(lags) / 1000,
        'notice max s': lags.length ? Math.max(...lags) / 1000 : Number.NaN
      }
      return [{ path, side, figures }]
    })
  )
}

function cell(value: number, column: string): string {
  if (!Number.isFinite(value)) return '–'
  const decimals = column.endsWith(' s') ? 1 : 0
  return value.toFixed(decimals)
}

function formatGrid(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index].length))
  )
  const line = (row: string[]) =>
    row
      .map((text, index) => (index < 2 ? text.padEnd(widths[index]) : text.padStart(widths[index])))
      .join('  ')
  return [line(header), ...rows.map(line)]
}

/** The whole printout: settings, the table, the ratios and the per-change notice delays. */
export function formatResult(result: BenchResult): string {
  const { options } = result
  const rows = tableRows(result)
  const out: string[] = []
  const d = options.delays
  out.push(
    `adf-pg-private-link benchmark: ${options.rounds} round(s), poll interval ${options.pollIntervalMs} ms on both sides; delays: endpoint provisioning ${d.endpointProvisioningMs} ms, connection appears ${d.connectionAppearsMs} ms, approval operation ${d.connectionUpdateMs} ms, factory notices approval ${d.approvalDiscoveryMs} ms, run queued ${d.pipelineQueuedMs} ms`,
    "sides: action = dist/index.js as a runner runs it; az resource create = the how-to's recipe; az rest = the same with `az rest` for the endpoint (the CLI at its best); az CLI = the recipe's re-run (4 reads, then the test or not); every CLI path includes `az login`",
    ''
  )
  out.push(
    ...formatGrid(
      [...tableColumns],
      rows.map((row) => [
        pathLabels[row.path],
        row.side,
        ...tableColumns.slice(2).map((column) => cell(row.figures[column], column))
      ])
    )
  )
  if (result.azureCliMissing) {
    out.push('', `Azure CLI side not measured: ${result.azureCliMissing}.`)
  } else {
    out.push('', 'action / CLI (below 1: the action is faster or lighter)')
    const ratios = rows.flatMap((row) => {
      const action = rows.find((other) => other.path === row.path && other.side === 'action')
      if (row.side === 'action' || !action) return []
      const requests = (r: TableRow) => methods.reduce((sum, m) => sum + r.figures[m], 0)
      return [
        [
          pathLabels[row.path],
          `vs ${row.side}`,
          (action.figures['wall s'] / row.figures['wall s']).toFixed(2),
          (action.figures['overhead s'] / row.figures['overhead s']).toFixed(2),
          (requests(action) / requests(row)).toFixed(2)
        ]
      ]
    })
    out.push(...formatGrid(['path', 'side', 'wall ×', 'overhead ×', 'ARM requests ×'], ratios))
  }
  out.push('', 'Delay from each state change to the first response that shows it, median s (max s)')
  const changeRows = paths.flatMap((path) =>
    stateChangesOf[path].map((change) => [
      pathLabels[path],
      change,
      ...sides.map((side) => {
        const lags = result.measurements
          .filter((m) => m.path === path && m.side === side)
          .flatMap((m) => m.noticeLagMs.filter((n) => n.change === change).map((n) => n.lagMs))
        return lags.length
          ? `${cell(median(lags) / 1000, ' s')} (${cell(Math.max(...lags) / 1000, ' s')})`
          : ''
      })
    ])
  )
  out.push(...formatGrid(['path', 'state change', ...sides], changeRows))
  out.push('', `Whole benchmark: ${(result.elapsedMs / 1000).toFixed(0)} s.`)
  return out.join('\n')
}
