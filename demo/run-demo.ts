// `npm run demo`: the whole job against the local Azure, as a runner would run it, in under a minute.
import { demoScenario, exitIfNoPostgres, startEmulator } from '../emulator/index.js'
import { runAction, runPostStep, scenarioInputs } from '../runner/index.js'
import { asRunnerLog, showResult } from '../runner/show.js'

const scenario = demoScenario()

console.log(
  'Starting the local Azure (Resource Manager, Entra ID, GitHub OIDC) and a real PostgreSQL…'
)
const emulator = await startEmulator({ scenario, postgres: true }).catch(exitIfNoPostgres)
let exitCode: number
try {
  console.log(`Local Azure at ${emulator.url}; running dist/index.js as a GitHub runner would.\n`)
  const run = {
    inputs: {
      ...scenarioInputs(scenario, emulator.url),
      'poll-interval': '2s'
    },
    // GitHub OIDC: the runner's token request variables, served by the emulator.
    env: emulator.env,
    onStdout: (chunk: string) => process.stdout.write(asRunnerLog(chunk))
  }
  const result = await runAction(run)
  // The runner's `post:` phase: removes any connection-test object the main step could not.
  await runPostStep(run, result)
  showResult(result)
  exitCode = result.exitCode ?? 1
} finally {
  await emulator.stop()
}
process.exit(exitCode)
