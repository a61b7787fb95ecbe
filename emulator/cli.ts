// `npm run emulator`: the demo scenario's local Azure with a real PostgreSQL, until Ctrl-C. It writes the
// action's inputs for this scenario to a file that `npm run action -- <file>` runs the bundle with.
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { scenarioInputs } from '../runner/index.js'
import { demoScenario, exitIfNoPostgres, startEmulator } from './index.js'

const scenario = demoScenario()
const server = scenario.servers[0]
const emulator = await startEmulator({ scenario, postgres: true }).catch(exitIfNoPostgres)
// Beside the emulator's CA, so it goes when the emulator stops.
const inputsFile = path.join(path.dirname(emulator.caFile), 'inputs.json')
await writeFile(
  inputsFile,
  JSON.stringify(
    {
      inputs: { ...scenarioInputs(scenario, emulator.url), 'poll-interval': '2s' },
      env: emulator.env
    },
    null,
    2
  ),
  { mode: 0o600 }
)

console.log(`A local Azure is running at ${emulator.url}: Resource Manager, Entra ID, the GitHub OIDC
token endpoint, and a real PostgreSQL standing for ${server.name}. Its CA is ${emulator.caFile}.

In another terminal, from this folder:
  npm run action -- ${inputsFile}              # apply: endpoint, approval, linked service, test
  npm run action -- ${inputsFile} mode=plan    # what apply would change, writing nothing
  npm run action -- ${inputsFile} mode=destroy # remove what apply made
Any input can be overridden the same way (name=value); the file holds the scenario's inputs.

What the local Azure holds now: ${emulator.url}/_emulator/snapshot (admin API: ${emulator.url}/_emulator/info)
  curl --cacert ${emulator.caFile} ${emulator.url}/_emulator/snapshot
Press Ctrl-C to stop; everything it started is removed.`)

let stopping = false
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`\n${signal}: stopping the emulator…`)
  await emulator.stop()
  process.exit(0)
}
process.on('SIGINT', (signal) => void shutdown(signal))
process.on('SIGTERM', (signal) => void shutdown(signal))
