// `npm run bench`: the action and the seed document's Azure CLI recipe, side by side, against the
// local Azure with seconds-scale delays (real PostgreSQL). It prints figures; it asserts nothing.
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { runnerNodeBinary } from '../runner/index.js'
import { runBench } from './bench.js'
import { benchDelays, benchPollIntervalMs } from './scenario.js'
import { formatResult } from './table.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
if (!Number.isInteger(rounds) || rounds < 1)
  throw new Error('BENCH_ROUNDS must be a whole number ≥ 1')

const result = await runBench({
  rounds,
  delays: benchDelays,
  pollIntervalMs: benchPollIntervalMs,
  progress: (line) => console.error(line)
})
console.log(
  `action node: ${execFileSync(runnerNodeBinary(), ['--version'], { encoding: 'utf8' }).trim()}; machine: ${cpus().length} cores`
)
console.log(formatResult(result))
