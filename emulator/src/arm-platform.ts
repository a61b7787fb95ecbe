// Resource Manager's own resources: tenants, subscriptions, resource groups and provider metadata.
import { isWithinScope } from './rbac.js'
import { armError } from './arm-errors.js'
import { tenantDomainsOf } from './identity.js'
import { pathSegments, type Router } from './router.js'
import type { EmuRequest, EmuResponse, Route, Scenario } from './types.js'

// api-versions ARM serves for its own resource types (a subset; all that clients of this project send).
const resourcesApiVersions = [
  '2016-09-01',
  '2017-05-10',
  '2018-05-01',
  '2019-05-01',
  '2019-07-01',
  '2019-10-01',
  '2020-06-01',
  '2020-10-01',
  '2021-01-01',
  '2021-04-01',
  '2022-09-01',
  '2023-07-01',
  '2024-03-01',
  '2024-07-01',
  '2024-11-01',
  '2025-03-01',
  '2025-04-01'
]
const subscriptionsApiVersions = [
  '2016-06-01',
  '2018-06-01',
  '2019-06-01',
  '2019-11-01',
  '2020-01-01',
  '2021-01-01',
  '2022-01-01',
  '2022-09-01',
  '2022-12-01',
  '2024-08-01',
  '2024-11-01'
]
const metadataApiVersions = ['2015-01-01', '2019-05-01']

const apiVersionShape = /^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i

/** The provider namespace and resource type a path addresses; a POST's last odd segment is an action. */
function resourceTypeOf(
  method: string,
  path: string
): { namespace: string; resourceType: string } | undefined {
  const segments = pathSegments(path)
  const at = segments.findIndex((segment) => segment.toLowerCase() === 'providers')
  const rest = segments.slice(at + 2)
  if (at === -1 || rest.length === 0) return undefined
  const typeSegments = method === 'POST' && rest.length % 2 === 1 ? rest.slice(0, -1) : rest
  return {
    namespace: segments[at + 1],
    resourceType: typeSegments.filter((_, index) => index % 2 === 0).join('/')
  }
}

function scenarioLocations(scenario: Scenario): string[] {
  return [
    ...new Set([...scenario.factories, ...scenario.servers].map((resource) => resource.location))
  ]
}

interface ProviderResourceType {
  resourceType: string
  apiVersions: string[]
}

/** Provider metadata derived from the registered routes, so it always matches what is served. */
function providerResourceTypes(
  routes: Route[]
): Map<string, { namespace: string; types: ProviderResourceType[] }> {
  const providers = new Map<string, { namespace: string; types: Map<string, Set<string>> }>()
  for (const route of routes) {
    const segments = pathSegments(route.pattern)
    const at = segments.findIndex((segment) => segment.toLowerCase() === 'providers')
    const namespace = segments[at + 1]
    if (at === -1 || !namespace || namespace.startsWith(':') || !route.apiVersions) continue
    const provider = providers.get(namespace.toLowerCase()) ?? { namespace, types: new Map() }
    providers.set(namespace.toLowerCase(), provider)
    const rest = segments.slice(at + 2)
    const chain: string[] = []
    for (let index = 0; index < rest.length; index += 2) {
      const isCollection = index + 1 === rest.length
      if (isCollection && route.method === 'POST') break // an action, not a resource type
      chain.push(rest[index])
      const versions = provider.types.get(chain.join('/')) ?? new Set<string>()
      route.apiVersions.forEach((version) => versions.add(version))
      provider.types.set(chain.join('/'), versions)
    }
  }
  return new Map(
    [...providers].map(([key, { namespace, types }]) => [
      key,
      {
        namespace,
        types: [...types].map(([resourceType, versions]) => ({
          resourceType,
          apiVersions: [...versions].sort().reverse()
        }))
      }
    ])
  )
}

interface ArmPlatformOptions {
  baseUrl: string
  scenario: () => Scenario
  router: Router
}

export interface ArmPlatform {
  routes: Route[]
  /** ARM's answer when the path names a subscription or resource group that does not exist. */
  missingContainer(path: string): EmuResponse | undefined
  /** ARM's answer for a path no route serves. */
  unknownRoute(req: { path: string; query: URLSearchParams }): EmuResponse
  /** ARM's refusal of a missing or unsupported api-version: InvalidApiVersionParameter for its own
   * types and malformed versions, NoRegisteredProviderFound for a provider's resource type. */
  apiVersionRefusal(route: Route, req: EmuRequest): EmuResponse | undefined
}

export function createArmPlatform({ baseUrl, scenario, router }: ArmPlatformOptions): ArmPlatform {
  const findSubscription = (id: string) =>
    scenario().subscriptions.find(
      (subscription) => subscription.id.toLowerCase() === id.toLowerCase()
    )

  function subscriptionBody(subscription: Scenario['subscriptions'][number]) {
    return {
      id: `/subscriptions/${subscription.id}`,
      authorizationSource: 'RoleBased',
      managedByTenants: [],
      subscriptionId: subscription.id,
      tenantId: scenario().tenantId,
      displayName: subscription.displayName,
      state: 'Enabled',
      subscriptionPolicies: {
        locationPlacementId: 'Public_2014-09-01',
        quotaId: 'PayAsYouGo_2014-09-01',
        spendingLimit: 'Off'
      }
    }
  }

  /** A principal sees a subscription when it holds any role at, above or below it. */
  function visibleSubscriptions(req: EmuRequest) {
    const principal = scenario().principals.find((p) => p.objectId === req.caller?.objectId)
    const scopes = principal?.roles.map((assignment) => assignment.scope) ?? []
    return scenario().subscriptions.filter((subscription) => {
      const id = `/subscriptions/${subscription.id}`
      return scopes.some((scope) => isWithinScope(scope, id) || isWithinScope(id, scope))
    })
  }

  const subscriptionNotFound = (id: string) =>
    armError(404, 'SubscriptionNotFound', `The subscription '${id}' could not be found.`)

  function missingContainer(path: string): EmuResponse | undefined {
    const segments = pathSegments(path)
    if (segments[0]?.toLowerCase() !== 'subscriptions' || segments.length < 2) return undefined
    const subscription = findSubscription(decodeURIComponent(segments[1]))
    if (!subscription) return subscriptionNotFound(segments[1])
    if (segments[2]?.toLowerCase() !== 'resourcegroups' || segments.length < 4) return undefined
    const name = decodeURIComponent(segments[3])
    const exists = subscription.resourceGroups.some(
      (group) => group.name.toLowerCase() === name.toLowerCase()
    )
    return exists
      ? undefined
      : armError(404, 'ResourceGroupNotFound', `Resource group '${name}' could not be found.`)
  }

  function unknownRoute({ path, query }: { path: string; query: URLSearchParams }): EmuResponse {
    const addressed = resourceTypeOf('GET', path)
    if (!addressed) return armError(404, 'NotFound', `The requested path '${path}' was not found.`)
    const provider = providerResourceTypes(router.routes()).get(addressed.namespace.toLowerCase())
    if (!provider) {
      return armError(
        404,
        'InvalidResourceNamespace',
        `The resource namespace '${addressed.namespace}' is invalid.`
      )
    }
    return armError(
      404,
      'InvalidResourceType',
      `The resource type '${addressed.resourceType}' could not be found in the namespace '${provider.namespace}' for api version '${query.get('api-version') ?? ''}'.`
    )
  }

  function apiVersionRefusal(route: Route, req: EmuRequest): EmuResponse | undefined {
    const supported = route.apiVersions ?? []
    const version = req.query.get('api-version')
    if (supported.length === 0) return undefined
    if (!version) {
      return armError(
        400,
        'MissingApiVersionParameter',
        'The api-version query parameter (?api-version=) is required for all requests.'
      )
    }
    if (supported.includes(version)) return undefined
    const addressed = resourceTypeOf(req.method, req.path)
    if (!addressed || !apiVersionShape.test(version)) {
      return armError(
        400,
        'InvalidApiVersionParameter',
        `The api-version '${version}' is invalid. The supported versions are '${supported.join(',')}'.`
      )
    }
    const known = providerResourceTypes(router.routes())
      .get(addressed.namespace.toLowerCase())
      ?.types.find(
        (type) => type.resourceType.toLowerCase() === addressed.resourceType.toLowerCase()
      )
    const locations = scenarioLocations(scenario())
    return armError(
      400,
      'NoRegisteredProviderFound',
      `No registered resource provider found for location '${locations[0] ?? ''}' and API version '${version}' for type '${addressed.resourceType}'. The supported api-versions are '${(known?.apiVersions ?? supported).join(', ')}'. The supported locations are '${locations.join(', ')}'.`
    )
  }

  function providerMetadata(req: EmuRequest): EmuResponse {
    const provider = providerResourceTypes(router.routes()).get(req.params.namespace.toLowerCase())
    if (!provider) {
      return armError(
        404,
        'InvalidResourceNamespace',
        `The resource namespace '${req.params.namespace}' is invalid.`
      )
    }
    const locations = scenarioLocations(scenario())
    return {
      status: 200,
      body: {
        id: `/subscriptions/${req.params.subscriptionId}/providers/${provider.namespace}`,
        namespace: provider.namespace,
        registrationState: 'Registered',
        registrationPolicy: 'RegistrationRequired',
        resourceTypes: provider.types.map((type) => ({ ...type, locations, capabilities: 'None' }))
      }
    }
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/subscriptions',
      apiVersions: subscriptionsApiVersions,
      authenticated: true,
      handle: (req) => {
        const value = visibleSubscriptions(req).map(subscriptionBody)
        return { status: 200, body: { value, count: { type: 'Total', value: value.length } } }
      }
    },
    {
      method: 'GET',
      pattern: '/subscriptions/:subscriptionId',
      apiVersions: subscriptionsApiVersions,
      authenticated: true,
      handle: (req) => {
        const subscription = visibleSubscriptions(req).find(
          (candidate) => candidate.id.toLowerCase() === req.params.subscriptionId.toLowerCase()
        )
        return subscription
          ? { status: 200, body: subscriptionBody(subscription) }
          : subscriptionNotFound(req.params.subscriptionId)
      }
    },
    {
      method: 'GET',
      pattern: '/tenants',
      apiVersions: subscriptionsApiVersions,
      authenticated: true,
      handle: () => {
        const tenantId = scenario().tenantId
        const value = [
          {
            id: `/tenants/${tenantId}`,
            tenantId,
            tenantCategory: 'Home',
            displayName: 'Emulated tenant',
            defaultDomain: tenantDomainsOf(scenario())[0],
            domains: tenantDomainsOf(scenario()),
            tenantType: 'AAD'
          }
        ]
        return { status: 200, body: { value, count: { type: 'Total', value: 1 } } }
      }
    },
    {
      method: 'GET',
      pattern: '/subscriptions/:subscriptionId/resourcegroups/:resourceGroupName',
      apiVersions: resourcesApiVersions,
      permission: 'Microsoft.Resources/subscriptions/resourceGroups/read',
      handle: (req) => {
        const subscription = findSubscription(req.params.subscriptionId)
        const group = subscription?.resourceGroups.find(
          (candidate) => candidate.name.toLowerCase() === req.params.resourceGroupName.toLowerCase()
        )
        if (!subscription || !group)
          return missingContainer(req.path) ?? subscriptionNotFound(req.params.subscriptionId)
        return {
          status: 200,
          body: {
            id: `/subscriptions/${subscription.id}/resourceGroups/${group.name}`,
            name: group.name,
            type: 'Microsoft.Resources/resourceGroups',
            location: group.location,
            properties: { provisioningState: 'Succeeded' }
          }
        }
      }
    },
    {
      method: 'GET',
      pattern: '/subscriptions/:subscriptionId/providers/:namespace',
      apiVersions: resourcesApiVersions,
      authenticated: true,
      handle: providerMetadata
    },
    {
      method: 'GET',
      pattern: '/metadata/endpoints',
      apiVersions: metadataApiVersions,
      handle: () => ({
        status: 200,
        body: {
          galleryEndpoint: '',
          graphEndpoint: '',
          portalEndpoint: '',
          authentication: { loginEndpoint: `${baseUrl}/adfs`, audiences: [`${baseUrl}/`] }
        }
      })
    }
  ]

  return { routes, missingContainer, unknownRoute, apiVersionRefusal }
}
