// `npm run bench`: wall time, peak memory and Azure request counts of the bundled action against
// the local Azure (millisecond delays, real PostgreSQL). It prints figures; it asserts nothing.
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { basicScenario, startEmulator, testDelays } from '../emulator/index.js'
import { runAction, runnerNodeBinary, scenarioInputs, type ActionResult } from '../runner/index.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
// Reports the child's peak resident memory on exit, without touching the action's code.
const peakMemoryProbe = [
  '--import',
  'data:text/javascript,process.on("exit",()=>process.stderr.write(`bench-maxrss-kb=${process.resourceUsage().maxRSS}\\n`))'
]

interface Sample {
  durationMs: number
  maxRssKb: number
  requests: number
}

function peakRssKb(result: ActionResult): number {
  const match = /bench-maxrss-kb=(\d+)/.exec(result.stderr)
  return match ? Number(match[1]) : Number.NaN
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))]
}

function describe(label: string, samples: Sample[]): string {
  const durations = samples.map((sample) => sample.durationMs)
  const memory = samples.map((sample) => sample.maxRssKb / 1024)
  const requests = samples.map((sample) => sample.requests)
  return [
    label.padEnd(28),
    `${samples.length}`.padStart(4),
    `${percentile(durations, 0.5).toFixed(0)}`.padStart(9),
    `${Math.min(...durations).toFixed(0)}`.padStart(8),
    `${Math.max(...durations).toFixed(0)}`.padStart(8),
    `${Math.max(...memory).toFixed(1)}`.padStart(10),
    `${percentile(requests, 0.5)}`.padStart(10)
  ].join(' ')
}

const scenario = basicScenario({ delays: testDelays })
const emulator = await startEmulator({ scenario, postgres: true })
try {
  const inputs = {
    ...scenarioInputs(scenario, emulator.url),
    'poll-interval': '1s'
  }
  async function measure(extraInputs: Record<string, string> = {}): Promise<Sample> {
    emulator.admin.clearRequestLog()
    const result = await runAction({
      inputs: { ...inputs, ...extraInputs },
      env: emulator.env,
      nodeOptions: peakMemoryProbe
    })
    if (result.exitCode !== 0) {
      throw new Error(
        `the action failed (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`
      )
    }
    return {
      durationMs: result.durationMs,
      maxRssKb: peakRssKb(result),
      requests: emulator.admin.requestLog().length
    }
  }

  const fresh: Sample[] = []
  const rerun: Sample[] = []
  const noTest: Sample[] = []
  for (let round = 0; round < rounds; round++) {
    await emulator.admin.reset()
    fresh.push(await measure())
    rerun.push(await measure())
    noTest.push(await measure({ 'test-connection': 'false' }))
  }
  const invalid = await runAction({
    inputs: { 'factory-name': '-bad-' },
    nodeOptions: peakMemoryProbe
  })

  console.log(
    `adf-pg-private-link benchmark: ${rounds} rounds, emulator delays ${JSON.stringify(testDelays)}`
  )
  console.log(
    `action node: ${execFileSync(runnerNodeBinary(), ['--version'], { encoding: 'utf8' }).trim()}; machine: ${cpus().length} cores`
  )
  console.log('')
  console.log(
    'case'.padEnd(28),
    'runs'.padStart(4),
    'p50 (ms)'.padStart(9),
    'min'.padStart(8),
    'max'.padStart(8),
    'peak MiB'.padStart(10),
    'requests'.padStart(10)
  )
  console.log(describe('fresh apply', fresh))
  console.log(describe('re-run (no change)', rerun))
  console.log(describe('re-run, test-connection off', noTest))
  console.log(
    describe('bad input (start-up floor)', [
      { durationMs: invalid.durationMs, maxRssKb: peakRssKb(invalid), requests: 0 }
    ])
  )
} finally {
  await emulator.stop()
}
