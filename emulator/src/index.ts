// The emulator's public entry: start a local Azure (Resource Manager, Entra ID, GitHub OIDC, real PostgreSQL).
import { runLookup } from './lookup.js'
import { startPostgresCluster } from './postgres-cluster.js'
import { createResourceProviders, identityCredentials } from './providers.js'
import { launchEmulator, type RunningEmulator, type StartEmulatorOptions } from './server.js'

export function startEmulator(options: StartEmulatorOptions): Promise<RunningEmulator> {
  return launchEmulator(options, {
    createResourceProviders,
    startPostgresCluster,
    runLookup,
    extraRoles: (scenario) =>
      identityCredentials(scenario).map(({ role, password }) => ({ name: role, password }))
  })
}

export type { RunningEmulator, StartEmulatorOptions } from './server.js'
export type {
  ActiveFault,
  ConnectionAction,
  ConnectionSelector,
  EmulatorAdmin,
  FaultHit,
  FaultKind,
  FaultSpec,
  RequestLogEntry
} from './admin.js'
export { seededRandom, strayedSecret } from './admin.js'
export type { AccessTokenOptions, GithubTokenOptions } from './identity.js'
export { azureCli, azureCliLogin, azureCliMissing, type AzureCliResult } from './azure-cli.js'
export { testDelays } from './delays.js'
export * from './types.js'
export { basicIds, basicScenario } from '../scenarios/basic.js'
export { demoScenario } from '../scenarios/demo.js'
export { exitIfNoPostgres, planPostgres, PostgresUnavailableError } from './postgres-cluster.js'
