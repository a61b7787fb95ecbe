// `npm run emulator`: the demo scenario's local Azure with a real PostgreSQL, until Ctrl-C.
import { demoScenario, exitIfNoPostgres, startEmulator } from './index.js'

const scenario = demoScenario()
const factory = scenario.factories[0]
const server = scenario.servers[0]
const principal = scenario.principals[0]
const emulator = await startEmulator({ scenario, postgres: true }).catch(exitIfNoPostgres)

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`
const variables: Record<string, string> = {
  EMULATOR_URL: emulator.url,
  ...emulator.env,
  REQUESTS_CA_BUNDLE: emulator.caFile,
  AZURE_AUTHORITY_HOST: emulator.url,
  AZURE_TENANT_ID: emulator.tenantId,
  AZURE_CLIENT_ID: principal.clientId,
  AZURE_CLIENT_SECRET: principal.clientSecret ?? '',
  AZURE_SUBSCRIPTION_ID: factory.subscriptionId,
  AZURE_RESOURCE_GROUP: factory.resourceGroup,
  ADF_FACTORY_NAME: factory.name,
  PG_SERVER_NAME: server.name,
  PG_DATABASE: server.databases[0],
  PG_USERNAME: server.roles[0].name,
  PG_PASSWORD: server.roles[0].password
}
console.log(
  `# A local Azure is running at ${emulator.url}: Resource Manager, Entra ID (authority host = that URL,`
)
console.log(
  '# tenant below; disable instance discovery), the GitHub OIDC token endpoint, and a real PostgreSQL'
)
console.log(
  `# standing for ${server.name}. The CA that signs every certificate is ${emulator.caFile}.`
)
console.log(
  `# Paste these into a shell, then run the action (or \`az\`) against it. Admin API: ${emulator.url}/_emulator/`
)
for (const [name, value] of Object.entries(variables))
  console.log(`export ${name}=${shellQuote(value)}`)
console.log('# Press Ctrl-C to stop; everything it started is removed.')

let stopping = false
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return
  stopping = true
  console.log(`\n# ${signal}: stopping the emulator…`)
  await emulator.stop()
  process.exit(0)
}
process.on('SIGINT', (signal) => void shutdown(signal))
process.on('SIGTERM', (signal) => void shutdown(signal))
