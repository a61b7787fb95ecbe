// `npm run reliability [-- --runs 40 --rate 0.3 --pairs 5 --cancels 10 --seed N]` (or RELIABILITY_RUNS, …):
// prints progress on stderr, then the violations and the one table; exits 1 on any violation.
// What is measured and what counts as a violation: see the docstring of ./index.ts.
import { randomInt } from 'node:crypto'
import { parseArgs } from 'node:util'
import { runReliability, type ReliabilityOptions } from './index.js'

const flags = ['runs', 'rate', 'pairs', 'cancels', 'seed'] as const
const defaults = {
  runs: '40',
  rate: '0.3',
  pairs: '5',
  cancels: '10',
  seed: String(randomInt(2 ** 32))
}

/** The options from flags, else RELIABILITY_<FLAG>, else the defaults; throws on a value out of range. */
function readOptions(args: string[], env: NodeJS.ProcessEnv): ReliabilityOptions {
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(flags.map((flag) => [flag, { type: 'string' }]))
  })
  const read = (flag: (typeof flags)[number], valid: (value: number) => boolean, what: string) => {
    const text =
      (values[flag] as string | undefined) ??
      env[`RELIABILITY_${flag.toUpperCase()}`] ??
      defaults[flag]
    const value = Number(text)
    if (text.trim() === '' || !valid(value))
      throw new Error(`--${flag} must be ${what}, not '${text}'`)
    return value
  }
  const count = (value: number) => Number.isInteger(value) && value >= 0
  return {
    runs: read('runs', count, 'a whole number ≥ 0'),
    rate: read('rate', (value) => value >= 0 && value <= 1, 'between 0 and 1'),
    pairs: read('pairs', count, 'a whole number ≥ 0'),
    cancels: read('cancels', count, 'a whole number ≥ 0'),
    seed: read('seed', (value) => count(value) && value < 2 ** 32, 'a whole number below 2^32')
  }
}

const options = readOptions(process.argv.slice(2), process.env)
process.stderr.write(
  `Reliability run with seed ${options.seed} (replay: the same flags and --seed ${options.seed})\n`
)
const report = await runReliability({
  ...options,
  progress: (line) => process.stderr.write(`${line}\n`)
})
for (const line of [...report.notes, ...report.violations]) console.log(line)
console.log(report.table)
process.exitCode = report.violations.length > 0 ? 1 : 0
