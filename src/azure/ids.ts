// The ARM ids of everything the action reads or writes, built once from the target's settings.
import type { Settings } from '../settings.js'

export interface ArmIds {
  factory: string
  managedVirtualNetwork: string
  managedPrivateEndpoint(name: string): string
  /** A child of the factory: `factoryChild('linkedservices', 'ls')`. */
  factoryChild(kind: string, name: string): string
  server: string
  connection(name: string): string
}

/**
 * The ids Resource Manager gives the factory's and the server's resources, as
 * `/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.DataFactory/factories/<name>/…`
 * (the server's is its `server-id`).
 */
export function armIds(
  settings: Pick<Settings, 'factory' | 'managedVirtualNetwork' | 'server'>
): ArmIds {
  const { subscriptionId, resourceGroup, name } = settings.factory
  const factory = `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataFactory/factories/${name}`
  const managedVirtualNetwork = `${factory}/managedVirtualNetworks/${settings.managedVirtualNetwork}`
  return {
    factory,
    managedVirtualNetwork,
    managedPrivateEndpoint: (endpoint) =>
      `${managedVirtualNetwork}/managedPrivateEndpoints/${endpoint}`,
    factoryChild: (kind, child) => `${factory}/${kind}/${child}`,
    server: settings.server.id,
    connection: (connection) => `${settings.server.id}/privateEndpointConnections/${connection}`
  }
}
