// What a landing zone adds in front of every resource provider: Azure Policy Deny assignments and
// resource locks, checked by Resource Manager after RBAC and before the provider sees the request.
import { armError } from './arm-errors.js'
import { isWithinScope } from './rbac.js'
import { pathSegments } from './router.js'
import type { DenyPolicySeed, EmuRequest, EmuResponse, LockSeed, PolicyCondition } from './types.js'

export interface Governance {
  policies: DenyPolicySeed[]
  locks: LockSeed[]
}

/** The resource a request path names, and its type ('Microsoft.X/a/b'); undefined outside a provider. */
function addressedResource(path: string): { id: string; type: string; name: string } | undefined {
  const segments = pathSegments(path)
  const at = segments.map((segment) => segment.toLowerCase()).lastIndexOf('providers')
  const rest = segments.slice(at + 2)
  if (at === -1 || rest.length < 2) return undefined
  const pairs = rest.length % 2 === 0 ? rest : rest.slice(0, -1)
  return {
    id: '/' + segments.slice(0, at + 2 + pairs.length).join('/'),
    type: [segments[at + 1], ...pairs.filter((_, index) => index % 2 === 0)].join('/'),
    name: pairs.at(-1) ?? ''
  }
}

function valueAt(body: unknown, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      body
    )
}

function subscriptionOf(id: string): string {
  return (pathSegments(id)[1] ?? '').toLowerCase()
}

/** One expression as Azure Policy reports it in `evaluationDetails.evaluatedExpressions`. */
function evaluate(
  condition: PolicyCondition,
  body: unknown,
  resource: { id: string; type: string }
): { holds: boolean; expression: Record<string, unknown> } {
  const value = valueAt(body, condition.field)
  const text = typeof value === 'string' ? value : undefined
  // Policy aliases drop the 'properties.' prefix: <type>/<property path>.
  const alias = `${resource.type}/${condition.field.replace(/^properties\./, '')}`
  const base = { expressionKind: 'Field', expression: alias, path: condition.field }
  const shown = value === undefined ? {} : { expressionValue: value }
  if (condition.exists !== undefined) {
    const holds = (value !== undefined && value !== null) === condition.exists
    return {
      holds,
      expression: {
        ...base,
        ...shown,
        result: holds ? 'True' : 'False',
        targetValue: String(condition.exists),
        operator: 'Exists'
      }
    }
  }
  if (condition.otherSubscription) {
    const holds = text !== undefined && subscriptionOf(text) !== subscriptionOf(resource.id)
    return {
      holds,
      expression: {
        expressionKind: 'Value',
        expression: `[split(concat(field('${alias}'), '//'), '/')[2]]`,
        ...(text ? { expressionValue: subscriptionOf(text) } : {}),
        result: holds ? 'True' : 'False',
        targetValue: subscriptionOf(resource.id),
        operator: 'NotEquals'
      }
    }
  }
  const equals = condition.equals !== undefined
  const target = equals ? condition.equals : condition.notEquals
  const same = text?.toLowerCase() === target?.toLowerCase()
  const holds = equals ? same : !same
  return {
    holds,
    expression: {
      ...base,
      ...shown,
      result: holds ? 'True' : 'False',
      targetValue: target,
      operator: equals ? 'Equals' : 'NotEquals'
    }
  }
}

/**
 * Resource Manager's 403 for a write a Deny policy refuses. The shape follows Microsoft's published
 * example (learn.microsoft.com/azure/automation/enforce-job-execution-hybrid-worker): the message
 * with the policy identifiers, and `additionalInfo` of type PolicyViolation.
 */
function policyDenial(
  policy: DenyPolicySeed,
  resource: { name: string },
  expressions: Record<string, unknown>[]
): EmuResponse {
  const { assignment, definition } = policy
  const assignmentId = `${assignment.scope}/providers/Microsoft.Authorization/policyAssignments/${assignment.name}`
  const definitionId =
    definition.id ?? `/providers/Microsoft.Authorization/policyDefinitions/${definition.name}`
  const identifiers = JSON.stringify([
    {
      policyAssignment: { name: assignment.displayName, id: assignmentId },
      policyDefinition: { name: definition.displayName, id: definitionId }
    }
  ])
  const response = armError(
    403,
    'RequestDisallowedByPolicy',
    `Resource '${resource.name}' was disallowed by policy. Policy identifiers: '${identifiers}'.`
  )
  const error = (response.body as { error: Record<string, unknown> }).error
  error.target = resource.name
  error.additionalInfo = [
    {
      type: 'PolicyViolation',
      info: {
        policyDefinitionDisplayName: definition.displayName,
        evaluationDetails: { evaluatedExpressions: expressions },
        policyDefinitionId: definitionId,
        policyDefinitionName: definition.name,
        policyDefinitionEffect: 'Deny',
        policyAssignmentId: assignmentId,
        policyAssignmentName: assignment.name,
        policyAssignmentDisplayName: assignment.displayName,
        policyAssignmentScope: assignment.scope,
        policyAssignmentParameters: {}
      }
    }
  ]
  return response
}

/** The Deny answer for a PUT/PATCH one of the policies refuses (policy evaluates creates and updates). */
function policyRefusal(policies: DenyPolicySeed[], req: EmuRequest): EmuResponse | undefined {
  if (req.method !== 'PUT' && req.method !== 'PATCH') return undefined
  const resource = addressedResource(req.path)
  if (!resource) return undefined
  for (const policy of policies) {
    if (resource.type.toLowerCase() !== policy.resourceType.toLowerCase()) continue
    if (!isWithinScope(resource.id, policy.assignment.scope)) continue
    const all = (policy.allOf ?? []).map((condition) => evaluate(condition, req.body, resource))
    const any = (policy.anyOf ?? []).map((condition) => evaluate(condition, req.body, resource))
    const holds =
      all.every((result) => result.holds) && (any.length === 0 || any.some((r) => r.holds))
    if (!holds) continue
    const shown = [...all, ...any.filter((result) => result.holds)].map((r) => r.expression)
    return policyDenial(policy, resource, shown)
  }
  return undefined
}

/**
 * ARM's 409 for a locked scope. The wording is the one people quote from Azure (for example
 * Azure-Player/azure.datafactory.devops#183, MicrosoftDocs/azure-docs#110791); it names the
 * locked scope but not the lock's level.
 */
function lockRefusal(locks: LockSeed[], req: EmuRequest): EmuResponse | undefined {
  if (req.method === 'GET') return undefined
  const isDelete = req.method === 'DELETE'
  const scope = '/' + pathSegments(req.path).join('/')
  // ReadOnly refuses every write, delete and action; CanNotDelete only deletes.
  const blocking = locks.filter(
    (lock) => isWithinScope(scope, lock.scope) && (isDelete || lock.level === 'ReadOnly')
  )
  if (blocking.length === 0) return undefined
  const locked = blocking.map((lock) => `'${lock.scope}'`).join(',')
  return armError(
    409,
    'ScopeLocked',
    `The scope '${scope}' cannot perform ${isDelete ? 'delete' : 'write'} operation because following scope(s) are locked: ${locked}. Please remove the lock and try again.`
  )
}

/** Resource Manager's refusal of a write by a lock or a Deny policy, or undefined when it may go on. */
export function governanceRefusal(
  governance: Governance,
  req: EmuRequest
): EmuResponse | undefined {
  return lockRefusal(governance.locks, req) ?? policyRefusal(governance.policies, req)
}
