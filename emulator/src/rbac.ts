// Azure RBAC as Resource Manager applies it: role assignments at a scope, actions with wildcards.
import { armError } from './arm-errors.js'
import { pathSegments } from './router.js'
import type { Caller, EmuResponse, HttpMethod, PrincipalSeed, RoleAssignment } from './types.js'

interface RoleDefinition {
  actions: string[]
  notActions: string[]
}

// Permission lists as Azure's built-in role definitions publish them (control-plane part only).
const builtInRoles: Record<string, RoleDefinition> = {
  Owner: { actions: ['*'], notActions: [] },
  Contributor: {
    actions: ['*'],
    notActions: [
      'Microsoft.Authorization/*/Delete',
      'Microsoft.Authorization/*/Write',
      'Microsoft.Authorization/elevateAccess/Action',
      'Microsoft.Blueprint/blueprintAssignments/write',
      'Microsoft.Blueprint/blueprintAssignments/delete',
      'Microsoft.Compute/galleries/share/action',
      'Microsoft.Purview/consents/write',
      'Microsoft.Purview/consents/delete',
      'Microsoft.Resources/deploymentStacks/manageDenySetting/action',
      'Microsoft.Subscription/cancel/action',
      'Microsoft.Subscription/enable/action'
    ]
  },
  Reader: { actions: ['*/read'], notActions: [] },
  'Data Factory Contributor': {
    actions: [
      'Microsoft.Authorization/*/read',
      'Microsoft.DataFactory/dataFactories/*',
      'Microsoft.DataFactory/factories/*',
      'Microsoft.EventGrid/eventSubscriptions/write',
      'Microsoft.Insights/alertRules/*',
      'Microsoft.Insights/diagnosticSettings/*',
      'Microsoft.Insights/logDefinitions/read',
      'Microsoft.Insights/metricDefinitions/read',
      'Microsoft.Insights/metrics/read',
      'Microsoft.Resources/deployments/*',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Support/*'
    ],
    notActions: []
  }
}

/** The permissions an assignment grants; throws on a role Azure does not have built in. */
export function roleDefinitionOf(assignment: RoleAssignment): RoleDefinition {
  if (assignment.actions)
    return { actions: assignment.actions, notActions: assignment.notActions ?? [] }
  const role = assignment.role ?? ''
  const builtIn = builtInRoles[role]
  if (!builtIn) throw new Error(`Unknown role '${role}': use a built-in role or give actions`)
  return {
    actions: builtIn.actions,
    notActions: [...builtIn.notActions, ...(assignment.notActions ?? [])]
  }
}

function wildcardPattern(action: string): RegExp {
  const escaped = action.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')
  return new RegExp(`^${escaped}$`, 'i')
}

function grants(definition: RoleDefinition, action: string): boolean {
  const allowed = definition.actions.some((pattern) => wildcardPattern(pattern).test(action))
  return allowed && !definition.notActions.some((pattern) => wildcardPattern(pattern).test(action))
}

/** True when `scope` is `parent` or lies below it (segment-wise, case-insensitive). */
export function isWithinScope(scope: string, parent: string): boolean {
  const child = pathSegments(scope.toLowerCase())
  const ancestor = pathSegments(parent.toLowerCase())
  return (
    ancestor.length <= child.length && ancestor.every((segment, index) => segment === child[index])
  )
}

export function isAuthorized(principal: PrincipalSeed, action: string, scope: string): boolean {
  return principal.roles.some(
    (assignment) =>
      isWithinScope(scope, assignment.scope) && grants(roleDefinitionOf(assignment), action)
  )
}

/**
 * The scope ARM checks a request against: the resource the path names. A POST to an odd-length
 * provider path is an action on its parent resource (…/pipelines/p/createRun → …/pipelines/p).
 */
export function authorizationScope(method: HttpMethod, path: string): string {
  const segments = pathSegments(path)
  const providersAt = segments.map((segment) => segment.toLowerCase()).lastIndexOf('providers')
  const typeAndNames = providersAt === -1 ? segments.length : segments.length - providersAt - 2
  const isAction = method === 'POST' && typeAndNames > 0 && typeAndNames % 2 === 1
  return '/' + (isAction ? segments.slice(0, -1) : segments).join('/')
}

export function authorizationFailed(caller: Caller, action: string, scope: string): EmuResponse {
  return armError(
    403,
    'AuthorizationFailed',
    `The client '${caller.clientId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`
  )
}
