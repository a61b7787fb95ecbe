// `npm run demo`: the whole job against the local Azure, as a runner would run it, in under a minute.
import { demoScenario, exitIfNoPostgres, startEmulator } from '../emulator/index.js'
import { runAction, scenarioInputs } from '../runner/index.js'

/** Shows the action's stdout as a runner's log does: masks and debug lines hidden, annotations labelled. */
function asRunnerLog(chunk: string): string {
  return chunk
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::') && !line.startsWith('::debug::'))
    .map((line) =>
      line.replace(
        /^::(error|warning|notice)[^:]*::/,
        (_, level: string) => `${level.toUpperCase()}: `
      )
    )
    .join('\n')
}

const scenario = demoScenario()

console.log(
  'Starting the local Azure (Resource Manager, Entra ID, GitHub OIDC) and a real PostgreSQL…'
)
const emulator = await startEmulator({ scenario, postgres: true }).catch(exitIfNoPostgres)
let exitCode: number
try {
  console.log(`Local Azure at ${emulator.url}; running dist/index.js as a GitHub runner would.\n`)
  const result = await runAction({
    inputs: {
      ...scenarioInputs(scenario, emulator.url),
      'poll-interval': '2s'
    },
    // GitHub OIDC: the runner's token request variables, served by the emulator.
    env: emulator.env,
    onStdout: (chunk) => process.stdout.write(asRunnerLog(chunk))
  })
  process.stderr.write(result.stderr)
  console.log('\n── Outputs ──')
  for (const [name, value] of Object.entries(result.outputs)) console.log(`${name}: ${value}`)
  console.log('\n── Job summary ──')
  console.log(result.summary)
  console.log(
    `Action finished in ${(result.durationMs / 1000).toFixed(1)} s with exit code ${result.exitCode}.`
  )
  exitCode = result.exitCode ?? 1
} finally {
  await emulator.stop()
}
process.exit(exitCode)
