// `npm run action -- <inputs file> [name=value …]`: runs the bundled action once as a GitHub runner
// would (INPUT_* variables and command files, then its post step), with the inputs and environment that
// `npm run emulator` wrote; `name=value` arguments override single inputs (e.g. mode=plan).
import { readFile } from 'node:fs/promises'
import { runAction, runnerNodeBinary, runPostStep } from './index.js'
import { asRunnerLog, showResult } from './show.js'

/** What `npm run emulator` writes: the action's inputs, and the runner environment they need. */
export interface InputsFile {
  inputs: Record<string, string>
  env?: Record<string, string>
}

const [file, ...overrides] = process.argv.slice(2)
if (!file) {
  console.error('Usage: npm run action -- <inputs file written by npm run emulator> [name=value …]')
  process.exit(2)
}
const given = JSON.parse(await readFile(file, 'utf8')) as InputsFile
const inputs = { ...given.inputs }
for (const override of overrides) {
  const at = override.indexOf('=')
  if (at < 1) {
    console.error(`Not an input assignment: ${override} (expected name=value, e.g. mode=plan)`)
    process.exit(2)
  }
  inputs[override.slice(0, at)] = override.slice(at + 1)
}
console.log(`Running dist/index.js on ${runnerNodeBinary()} as a GitHub runner would.\n`)
const run = {
  inputs,
  env: given.env,
  onStdout: (chunk: string) => process.stdout.write(asRunnerLog(chunk))
}
const result = await runAction(run)
// The runner's `post:` phase (post-if: always()): removes what the main step could not.
const post = await runPostStep(run, result)
process.stderr.write(post.stderr)
showResult(result)
process.exit(result.exitCode ?? 1)
