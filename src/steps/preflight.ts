// Preflight: the factory, its managed VNet and runtime, the server (and the Key Vault linked service)
// are what the later steps need; anything missing fails here with how to fix it.
import type {
  Factory,
  FactoryRepoConfigurationUnion,
  IntegrationRuntimeResource,
  Server
} from '../azure/gateway.js'
import { explain } from '../failures.js'
import { ActionError, statusCodeOf } from '../errors.js'
import { sameText } from '../names.js'
import { postgresGroupId } from '../private-link.js'
import type { StepOutcome } from '../report.js'
import type { Settings } from '../settings.js'
import { toConnectionView, type ConnectionView } from './connections.js'
import { requestOptions, type Finding, type StepContext } from './context.js'

export interface PreflightObservation {
  factory?: Pick<Factory, 'id' | 'identity' | 'repoConfiguration'>
  /** Whether `factory` is the factory as read (not only its id, known from the runtime's path). */
  factoryRead?: boolean
  managedVirtualNetworks: string[]
  integrationRuntime?: IntegrationRuntimeResource
  server?: Pick<
    Server,
    | 'id'
    | 'state'
    | 'fullyQualifiedDomainName'
    | 'network'
    | 'privateEndpointConnections'
    | 'systemData'
  >
  /** The Key Vault linked service, when the credential needs one (`type` undefined = missing). */
  keyVaultStore?: { name: string; type?: string; baseUrl?: string }
  /** The Private Link groups the server offers (its privateLinkResources); undefined = not read. */
  privateLinkGroups?: string[]
}

/** The factory's Git repository, from `Factory.repoConfiguration`. */
export interface GitIntegration {
  host: 'GitHub' | 'Azure DevOps'
  /** `owner/repository` (GitHub) or `organization/project/repository` (Azure DevOps). */
  repository: string
  collaborationBranch: string
  /** The repository folder the factory's files live in, e.g. `/` or `/factory`. */
  rootFolder: string
}

/** Undefined for a factory in live mode (no `repoConfiguration`). */
export function gitIntegrationOf(
  repo: FactoryRepoConfigurationUnion | undefined
): GitIntegration | undefined {
  if (!repo) return undefined
  const devOps = repo.type === 'FactoryVSTSConfiguration'
  const project = devOps && 'projectName' in repo ? repo.projectName : undefined
  return {
    host: devOps ? 'Azure DevOps' : 'GitHub',
    repository: [repo.accountName, project, repo.repositoryName].filter(Boolean).join('/'),
    collaborationBranch: repo.collaborationBranch,
    rootFolder: repo.rootFolder || '/'
  }
}

export interface PreflightFacts {
  serverFqdn: string
  serverId: string
  /** Whether preflight read the factory (then `git` is its Git repository, undefined in live mode). */
  factoryRead: boolean
  /** The factory's Git repository; undefined in live mode or when the factory was not read. */
  git?: GitIntegration
  /** The server's private endpoint connections as its GET listed them (the endpoint step's first look). */
  connections: ConnectionView[]
  /** The Key Vault linked service and the vault it reads, when the password (or key) is in one. */
  keyVault?: { linkedService: string; baseUrl?: string }
  /** The server's `systemData.createdAt` (ISO 8601); moves when the server is recreated under its name. */
  serverCreatedAt?: string
}

/** Where the Key Vault secret lives, when the chosen credential uses one. */
function keyVaultStoreOf(settings: Settings): string | undefined {
  const { credential } = settings.linkedService
  if (credential.kind === 'key-vault-password') return credential.secret.store
  if (credential.kind === 'service-principal') return credential.key.store
  return undefined
}

/** Everything wrong with what was observed, in the order a person would fix it. */
export function checkPreflight(observed: PreflightObservation, settings: Settings): Finding[] {
  const findings: Finding[] = []
  const { factory, server } = settings
  if (!observed.factory) {
    return [
      {
        message: `Data factory '${factory.name}' was not found in resource group '${factory.resourceGroup}' of subscription ${factory.subscriptionId}.`,
        hint: 'Check factory-name, resource-group and subscription-id, and that the identity can read the factory.'
      }
    ]
  }
  if (
    !observed.managedVirtualNetworks.some((name) => sameText(name, settings.managedVirtualNetwork))
  ) {
    findings.push({
      message: `Data factory '${factory.name}' has no managed virtual network '${settings.managedVirtualNetwork}' (found: ${observed.managedVirtualNetworks.join(', ') || 'none'}).`,
      hint: 'Enable a managed virtual network on the factory (create an Azure integration runtime with "Virtual network configuration" enabled) or set managed-virtual-network to the existing one.'
    })
  }
  const runtime = observed.integrationRuntime
  const runtimeVnet = runtimeVnetOf(runtime)
  if (!runtime) {
    findings.push({
      message: `Integration runtime '${settings.integrationRuntime}' was not found in data factory '${factory.name}'.`,
      hint: 'Set integration-runtime to an Azure integration runtime that runs in the managed virtual network.'
    })
  } else if (!sameText(runtimeVnet, settings.managedVirtualNetwork)) {
    findings.push({
      message: `Integration runtime '${settings.integrationRuntime}' does not run in managed virtual network '${settings.managedVirtualNetwork}' (its managed virtual network: ${runtimeVnet ?? 'none'}).`,
      hint: 'Private endpoints are only used by a runtime inside the managed virtual network: create one with "Virtual network configuration" enabled and set integration-runtime to it.'
    })
  }
  if (!observed.server) {
    findings.push({
      message: `PostgreSQL flexible server '${server.name}' was not found (${server.id}).`,
      hint: 'Check server-name/server-resource-group or server-id, and that the identity can read the server.'
    })
  } else {
    const groups = observed.privateLinkGroups
    const offersGroup =
      groups === undefined || groups.some((group) => sameText(group, postgresGroupId))
    const delegatedSubnet = observed.server.network?.delegatedSubnetResourceId
    if (delegatedSubnet || !offersGroup) {
      // The catalogue's words (README troubleshooting), for the server's own facts.
      const explanation = explain(
        {
          area: 'resource-manager',
          code: delegatedSubnet ? 'ServerVnetIntegrated' : 'PrivateLinkGroupMissing',
          message: ''
        },
        {
          scope: observed.server.id ?? server.id,
          delegatedSubnet,
          privateLinkGroups: groups?.length
            ? groups.map((group) => `'${group}'`).join(', ')
            : 'none'
        }
      )
      findings.push({ message: explanation.cause, hint: explanation.fix })
    }
    if (observed.server.state !== 'Ready') {
      findings.push({
        message: `Server '${server.name}' is ${observed.server.state ?? 'in an unknown state'}, not Ready.`,
        hint: 'Start the server (or wait for the running operation to finish) and run again: networking changes need a Ready server.'
      })
    }
    if (!observed.server.fullyQualifiedDomainName) {
      findings.push({
        message: `Server '${server.name}' reports no fullyQualifiedDomainName.`,
        hint: 'Wait until the server is fully provisioned and run again.'
      })
    }
  }
  const store = observed.keyVaultStore
  if (store && store.type?.toLowerCase() !== 'azurekeyvault') {
    findings.push({
      message: store.type
        ? `Linked service '${store.name}' is of type ${store.type}, not AzureKeyVault.`
        : `Key Vault linked service '${store.name}' was not found in data factory '${factory.name}'.`,
      hint: 'Set password-key-vault-linked-service to an AzureKeyVault linked service of this factory (the factory identity needs "Key Vault Secrets User" on the vault).'
    })
  }
  if (
    settings.linkedService.credential.kind === 'system-assigned-identity' &&
    !observed.factory.identity?.principalId
  ) {
    findings.push({
      message: `Data factory '${factory.name}' has no system-assigned managed identity.`,
      hint: "Enable the factory's system-assigned identity and create a PostgreSQL role for it (pgaadauth_create_principal), or choose another linked-service-auth."
    })
  }
  return findings
}

/**
 * Whether the factory itself must be read: only a system-assigned identity credential needs its
 * `identity`; otherwise a found integration runtime proves the factory exists.
 */
export function factoryReadNeeded(settings: Settings): boolean {
  return settings.linkedService.credential.kind === 'system-assigned-identity'
}

/** The managed VNet the runtime names, when it is a Managed runtime that names one. */
function runtimeVnetOf(runtime: IntegrationRuntimeResource | undefined): string | undefined {
  return runtime?.properties.type === 'Managed'
    ? runtime.properties.managedVirtualNetwork?.referenceName
    : undefined
}

/**
 * Whether the runtime already proves the managed VNet exists (Data Factory refuses a runtime that
 * names a missing one), so the VNet list is only read to explain a problem.
 */
export function runtimeProvesVnet(
  runtime: IntegrationRuntimeResource | undefined,
  settings: Settings
): boolean {
  return sameText(runtimeVnetOf(runtime), settings.managedVirtualNetwork)
}

/** An AzureKeyVault linked service's `baseUrl`, when it is a plain string (not an expression). */
function keyVaultBaseUrlOf(properties: { type?: string } | undefined): string | undefined {
  const baseUrl = (properties as { baseUrl?: unknown } | undefined)?.baseUrl
  return typeof baseUrl === 'string' ? baseUrl : undefined
}

/** A settled read's value; its error when it failed. */
function valueOf<T>(read: PromiseSettledResult<T>): T {
  if (read.status === 'rejected') throw read.reason
  return read.value
}

/**
 * Reads what the checks need, at once: the runtime, the server (whose GET also lists its private
 * endpoint connections, so the endpoint step needs no list call), the Key Vault linked service
 * when used, and the factory when its identity matters. The factory and its managed VNets are
 * read afterwards only to explain a runtime that is missing or outside the VNet.
 */
async function observe(context: StepContext): Promise<PreflightObservation> {
  const { settings, azure } = context
  const options = requestOptions(context)
  const factoryId = azure.ids.factory
  const readFactory = () => azure.findFactory(options)
  const store = keyVaultStoreOf(settings)
  const settled = await Promise.allSettled([
    factoryReadNeeded(settings) ? readFactory() : undefined,
    azure.findIntegrationRuntime(options),
    azure.findServer(options),
    // What the server offers, so a server without the group is refused before any write.
    azure.findPrivateLinkResources(options),
    store === undefined ? undefined : azure.findLinkedService(store, options)
  ])
  const [factoryRead, runtimeRead, serverRead, privateLinkRead, keyVaultRead] = settled
  const scopeRefused =
    runtimeRead.status === 'rejected' && [403, 404].includes(statusCodeOf(runtimeRead.reason) ?? 0)
  if (scopeRefused && !factoryReadNeeded(settings)) {
    // Refused at the factory's level too? Then that is the failure to explain (scope, inputs).
    if (!(await readFactory())) return { managedVirtualNetworks: [] }
  }
  // The first failure in a person's order: factory, runtime, server, Key Vault linked service.
  const factory = valueOf(factoryRead)
  const integrationRuntime = valueOf(runtimeRead)
  const server = valueOf(serverRead)
  const privateLinkGroups = server
    ? valueOf(privateLinkRead)?.map((resource) => resource.groupId ?? '')
    : undefined
  const keyVaultStore = valueOf(keyVaultRead)
  const keyVault =
    store === undefined
      ? undefined
      : {
          name: store,
          type: keyVaultStore?.properties.type,
          baseUrl: keyVaultBaseUrlOf(keyVaultStore?.properties)
        }
  if (runtimeProvesVnet(integrationRuntime, settings)) {
    return {
      // The runtime was found in the factory, so the factory exists; its identity was read if needed.
      factory: factory ?? { id: factoryId },
      factoryRead: factory !== undefined,
      managedVirtualNetworks: [settings.managedVirtualNetwork],
      integrationRuntime,
      server,
      privateLinkGroups,
      keyVaultStore: keyVault
    }
  }
  // Something is wrong: read the factory and its managed VNets to say exactly what.
  const found = factory ?? (await readFactory())
  if (!found) return { managedVirtualNetworks: [] }
  const vnets = await azure.listManagedVirtualNetworks(options)
  return {
    factory: found,
    factoryRead: true,
    managedVirtualNetworks: vnets.map((vnet) => vnet.name ?? ''),
    integrationRuntime,
    server,
    privateLinkGroups,
    keyVaultStore: keyVault
  }
}

export async function runPreflight(context: StepContext): Promise<StepOutcome<PreflightFacts>> {
  const observed = await observe(context)
  const findings = checkPreflight(observed, context.settings)
  if (findings.length) {
    throw new ActionError(findings.map((finding) => finding.message).join('\n'), {
      resource: context.azure.ids.factory,
      hint: findings.map((finding) => finding.hint).join(' ')
    })
  }
  const fqdn = observed.server?.fullyQualifiedDomainName ?? ''
  context.ledger.output('server-fqdn', fqdn)
  return {
    value: {
      serverFqdn: fqdn,
      serverId: observed.server?.id ?? context.settings.server.id,
      factoryRead: observed.factoryRead ?? false,
      git: gitIntegrationOf(observed.factory?.repoConfiguration),
      connections: (observed.server?.privateEndpointConnections ?? []).map(toConnectionView),
      keyVault: observed.keyVaultStore && {
        linkedService: observed.keyVaultStore.name,
        baseUrl: observed.keyVaultStore.baseUrl
      },
      serverCreatedAt: observed.server?.systemData?.createdAt?.toISOString()
    },
    found: `factory ${context.settings.factory.name} with managed VNet ${context.settings.managedVirtualNetwork} and runtime ${context.settings.integrationRuntime}; server ${fqdn} Ready`,
    done: 'checked, nothing to change'
  }
}
