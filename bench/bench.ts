// The benchmark as a library: the action and the seed's Azure CLI recipe, side by side, against one
// emulator with the same delays; `run.ts` prints it, e2e/bench.test.ts smoke-tests it.
import {
  azureCliMissing,
  startEmulator,
  type Delays,
  type RunningEmulator
} from '../emulator/index.js'
import { runActionPath } from './action-side.js'
import { runAzureCliPath } from './cli-side.js'
import { benchNames, benchScenario, inherentDelayMs, type BenchPath } from './scenario.js'
import { analyse, type ProcessSpan, type Timeline } from './timeline.js'

/** action; the seed's recipe (`az resource create`); the CLI at its best (`az rest`); re-runs share one CLI script. */
export type BenchSide = 'action' | 'az resource create' | 'az rest' | 'az CLI'

export interface Measurement extends Timeline {
  path: BenchPath
  side: BenchSide
  round: number
  wallMs: number
  inherentMs: number
  processes: number
}

export interface BenchOptions {
  rounds: number
  delays: Delays
  pollIntervalMs: number
  /** Measure the Azure CLI side when `az` runs here (default true). */
  azureCli?: boolean
  /** Progress lines (one per measured run). */
  progress?: (line: string) => void
}

export interface BenchResult {
  options: BenchOptions
  measurements: Measurement[]
  /** Why the Azure CLI side is missing, when it is. */
  azureCliMissing?: string
  elapsedMs: number
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const started = Date.now()
  const missing = options.azureCli === false ? 'not asked for' : await azureCliMissing()
  const scenario = benchScenario(options.delays)
  const emulator = await startEmulator({ scenario, postgres: true })
  const measurements: Measurement[] = []
  try {
    const measure = async (
      round: number,
      path: BenchPath,
      side: BenchSide,
      run: () => Promise<ProcessSpan[]>
    ) => {
      emulator.admin.clearRequestLog()
      const processes = await run()
      const measurement = measurementOf(emulator, options.delays, { round, path, side, processes })
      measurements.push(measurement)
      options.progress?.(
        `round ${round} ${side.padEnd(18)} ${path.padEnd(5)} ${(measurement.wallMs / 1000).toFixed(1)} s`
      )
    }
    for (let round = 1; round <= options.rounds; round++) {
      const action = (path: BenchPath) => () =>
        runActionPath(emulator, scenario, path, options.pollIntervalMs)
      await emulator.admin.reset()
      for (const path of ['fresh', 'noop', 'test'] as const)
        await measure(round, path, 'action', action(path))
      if (missing) continue
      const cli = (path: BenchPath, command: 'az resource create' | 'az rest') => () =>
        runAzureCliPath(emulator, scenario, path, options.pollIntervalMs, command)
      await emulator.admin.reset()
      await measure(round, 'fresh', 'az resource create', cli('fresh', 'az resource create'))
      await measure(round, 'noop', 'az CLI', cli('noop', 'az rest'))
      await measure(round, 'test', 'az CLI', cli('test', 'az rest'))
      await emulator.admin.reset()
      await measure(round, 'fresh', 'az rest', cli('fresh', 'az rest'))
    }
  } finally {
    await emulator.stop()
  }
  return {
    options,
    measurements,
    ...(missing ? { azureCliMissing: missing } : {}),
    elapsedMs: Date.now() - started
  }
}

/** Wall time runs from the first process's start to the last one's end (one script, or the action). */
function measurementOf(
  emulator: RunningEmulator,
  delays: Delays,
  run: { round: number; path: BenchPath; side: BenchSide; processes: ProcessSpan[] }
): Measurement {
  const { pipelineRuns } = emulator.admin.snapshot() as {
    pipelineRuns: { runId: string; runEnd?: string }[]
  }
  const timeline = analyse({
    path: run.path,
    entries: emulator.admin.requestLog(),
    processes: run.processes,
    delays,
    pipelineRuns,
    factoryName: benchNames.factoryName,
    endpointName: benchNames.endpointName
  })
  const wallMs =
    Math.max(...run.processes.map((span) => span.endMs)) -
    Math.min(...run.processes.map((span) => span.startMs))
  return {
    ...timeline,
    round: run.round,
    path: run.path,
    side: run.side,
    wallMs,
    inherentMs: inherentDelayMs(run.path, delays),
    processes: run.processes.length
  }
}
