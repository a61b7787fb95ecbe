// The emulator's resource providers (Microsoft.DataFactory and Microsoft.DBforPostgreSQL) as routes
// for the platform's HTTPS server, plus the admin view a DBA or a test uses.
import { createDataFactoryProvider } from './datafactory.js'
import { createPipelineRuns, managedIdentityPassword, managedIdentityRole } from './pipelines.js'
import { createPostgresProvider } from './postgres-flexible.js'
import type { ProviderContext, Route, Scenario } from './types.js'

export interface ProviderAdmin {
  /** as a DBA would in the portal: set a server-side connection's status */
  setConnectionState(
    serverId: string,
    connectionName: string,
    status: 'Approved' | 'Rejected' | 'Disconnected',
    description: string
  ): unknown
  listConnections(serverId: string): unknown[]
  /** the Private Link groups the server offers from now on */
  setPrivateLinkGroups(serverId: string, groups: string[]): void
  /** a DBA deletes a connection on the server; Data Factory is not told (its view keeps its last state) */
  deleteConnection(serverId: string, connectionName: string): void
  /** the server is deleted and created again under the same name: no connections, a new creation time */
  recreateServer(serverId: string): void
  /** the whole provider state (endpoints, connections, linked services, datasets, pipelines, runs), secrets removed */
  snapshot(): unknown
}

/**
 * The PostgreSQL roles the factories' system-assigned identities sign in as, with passwords only
 * this process knows; the platform creates them in the cluster.
 */
export function identityCredentials(scenario: Scenario): { role: string; password: string }[] {
  return scenario.factories
    .filter((factory) => factory.identityPostgresRole !== undefined)
    .map((factory) => ({
      role: managedIdentityRole(factory),
      password: managedIdentityPassword(factory)
    }))
}

export function createResourceProviders(ctx: ProviderContext): {
  routes: Route[]
  admin: ProviderAdmin
} {
  const postgres = createPostgresProvider({
    servers: ctx.scenario.servers,
    delays: ctx.delays,
    onConnectionStateChange: (privateEndpointId, change) =>
      dataFactory.connectionStateChanged(privateEndpointId, change)
  })
  const dataFactory = createDataFactoryProvider({
    scenario: ctx.scenario,
    delays: ctx.delays,
    postgres
  })
  const pipelineRuns = createPipelineRuns({ ctx, dataFactory, postgres })

  // State follows the clock lazily: every request first applies whatever has come due.
  function settle(): void {
    const now = Date.now()
    postgres.settle(now)
    dataFactory.settle(now)
  }

  const routes = [...dataFactory.routes, ...pipelineRuns.routes, ...postgres.routes].map(
    (route): Route => ({
      ...route,
      handle: (req) => {
        settle()
        return route.handle(req)
      }
    })
  )

  const admin: ProviderAdmin = {
    setConnectionState(serverId, connectionName, status, description) {
      settle()
      return postgres.setConnectionState(serverId, connectionName, status, description)
    },
    listConnections(serverId) {
      settle()
      return postgres.listConnections(serverId)
    },
    setPrivateLinkGroups: (serverId, groups) => postgres.setPrivateLinkGroups(serverId, groups),
    deleteConnection(serverId, connectionName) {
      settle()
      postgres.dropConnection(serverId, connectionName)
    },
    recreateServer(serverId) {
      settle()
      postgres.recreate(serverId)
    },
    snapshot() {
      settle()
      return {
        factories: dataFactory.snapshot(),
        servers: postgres.snapshot(),
        pipelineRuns: pipelineRuns.snapshot()
      }
    }
  }
  return { routes, admin }
}
