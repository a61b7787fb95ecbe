// Errors that say what failed, on which resource, and what to do; and the translation of SDK errors
// (their likely cause and fix come from the catalogue in failures.ts).
import { explain, hintOf, signalFromMessage, type FailureFacts } from './failures.js'

export interface ActionErrorDetails {
  /** The ARM id or name of the resource involved. */
  resource?: string
  /** What to do about it. */
  hint?: string
  cause?: unknown
}

export class ActionError extends Error {
  readonly resource?: string
  readonly hint?: string

  constructor(message: string, details: ActionErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.name = 'ActionError'
    this.resource = details.resource
    this.hint = details.hint
  }
}

/** One or more inputs are invalid; raised before any request to Azure. */
export class InputError extends ActionError {
  constructor(readonly problems: string[]) {
    super(`Invalid input:\n- ${problems.join('\n- ')}`, {
      hint: 'Fix the inputs of this step in the workflow file; nothing was sent to Azure.'
    })
    this.name = 'InputError'
  }
}

/** The run was cancelled (SIGINT/SIGTERM from the runner). */
export class CancelledError extends ActionError {
  constructor(readonly during: string) {
    super(`Cancelled while ${during}.`, {
      hint: 'The workflow run was cancelled; run it again to continue where it stopped.'
    })
    this.name = 'CancelledError'
  }
}

/** The fields of @azure/core-rest-pipeline's RestError this module reads. */
interface RestErrorLike {
  name: string
  message: string
  statusCode?: number
  code?: string
  /** The answer as sent: the SDK's error models drop `additionalInfo`. */
  response?: { bodyAsText?: string | null }
  request?: { url?: string }
}

/** The ARM id a request addressed (its URL's path), e.g. for a policy's 403, which names only a name. */
function requestedId(error: RestErrorLike): string | undefined {
  try {
    return error.request?.url ? decodeURIComponent(new URL(error.request.url).pathname) : undefined
  } catch {
    return undefined
  }
}

function isRestError(error: unknown): error is RestErrorLike {
  return error instanceof Error && error.name === 'RestError'
}

/** What a long-running operation that ended `Failed` said: its `error` code and message. */
export interface OperationFailure {
  code: string
  message: string
}

/**
 * The code and message of a failed long-running operation, as @azure/core-lro 2 words the error
 * its poller throws ("The long-running operation has failed. <code>. <message>", from the status
 * body's `error`: azcli-postgresql_asyncop-approve-rejected-failed.json); undefined for any other
 * error, also when it is the cause of an ActionError.
 */
export function operationFailureOf(error: unknown): OperationFailure | undefined {
  if (!(error instanceof Error)) return undefined
  if (error instanceof ActionError) return operationFailureOf(error.cause)
  const words = /^The long-running operation has failed(?:\. ([^.\s]+)\. ([\s\S]*))?$/.exec(
    error.message
  )
  if (!words) return undefined
  return { code: words[1] ?? 'unknown', message: words[2] ?? 'Azure gave no error' }
}

/** The HTTP status of a RestError, also when it is the cause of an ActionError. */
export function statusCodeOf(error: unknown): number | undefined {
  return restErrorOf(error)?.statusCode
}

/** The RestError behind `error` (itself, or an ActionError's cause). */
function restErrorOf(error: unknown): RestErrorLike | undefined {
  if (isRestError(error)) return error
  return error instanceof Error && error.cause !== undefined ? restErrorOf(error.cause) : undefined
}

/** Refusals no retry, wait or other person's approval gets past: an Azure Policy Deny, a lock. */
const permanentCodes = new Set(['requestdisallowedbypolicy', 'scopelocked'])

/**
 * Whether Resource Manager refused for good: a Deny policy (403 RequestDisallowedByPolicy) or a
 * management lock (409 ScopeLocked). Such an answer is explained at once, never waited out.
 */
export function isPermanentRefusal(error: unknown): boolean {
  return permanentCodes.has((restErrorOf(error)?.code ?? '').toLowerCase())
}

/** Whether an Azure Policy Deny refused the request (403 RequestDisallowedByPolicy), read from its code. */
export function isPolicyDenial(error: unknown): boolean {
  return (restErrorOf(error)?.code ?? '').toLowerCase() === 'requestdisallowedbypolicy'
}

/** One expression Azure Policy evaluated (`evaluationDetails.evaluatedExpressions`). */
interface EvaluatedExpression {
  result?: string
  expression?: string
  path?: string
  operator?: string
  targetValue?: unknown
  expressionValue?: unknown
}

interface PolicyViolationInfo {
  policyAssignmentId?: string
  policyAssignmentName?: string
  policyAssignmentDisplayName?: string
  policyAssignmentScope?: string
  policyDefinitionId?: string
  policyDefinitionName?: string
  policyDefinitionDisplayName?: string
  policySetDefinitionId?: string
  policySetDefinitionDisplayName?: string
  evaluationDetails?: { evaluatedExpressions?: EvaluatedExpression[] }
}

/** The raw error body of a RestError, or undefined when it is not JSON. */
function errorBodyOf(error: RestErrorLike): Record<string, unknown> | undefined {
  try {
    const body: unknown = JSON.parse(error.response?.bodyAsText ?? '')
    const inner = (body as { error?: unknown } | null)?.error
    return inner && typeof inner === 'object' ? (inner as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** The PolicyViolation entries of an ARM error body, its details' included. */
function policyViolations(body: Record<string, unknown>): PolicyViolationInfo[] {
  const own = Array.isArray(body.additionalInfo) ? (body.additionalInfo as unknown[]) : []
  const details = Array.isArray(body.details) ? (body.details as Record<string, unknown>[]) : []
  return [...own, ...details.flatMap((detail) => policyViolations(detail) as unknown[])]
    .map((entry) => entry as { type?: string; info?: PolicyViolationInfo })
    .filter((entry) => entry.type === 'PolicyViolation' && entry.info)
    .map((entry) => entry.info as PolicyViolationInfo)
}

const operatorWords: Record<string, string> = {
  exists: 'exists:',
  equals: 'equals',
  notequals: 'is not',
  in: 'is one of',
  notin: 'is not one of',
  like: 'is like',
  notlike: 'is not like',
  contains: 'contains',
  notcontains: 'does not contain',
  less: 'is less than',
  greater: 'is greater than'
}

function shown(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value)
}

/** An expression that held, in words: "properties.privateEndpoint.id exists: false". */
function describeExpression(expression: EvaluatedExpression): string {
  const subject = expression.path || expression.expression || 'a value'
  const operator = operatorWords[(expression.operator ?? '').toLowerCase()] ?? expression.operator
  const actual =
    expression.expressionValue === undefined ? '' : ` (it is ${shown(expression.expressionValue)})`
  return `${subject} ${operator} ${shown(expression.targetValue)}${actual}`
}

/**
 * What a Deny policy's answer says: assignment and definition (from `additionalInfo` of type
 * PolicyViolation, else the message's "Policy identifiers"), and the expressions that held.
 * Shape: learn.microsoft.com/azure/automation/enforce-job-execution-hybrid-worker (a full
 * RequestDisallowedByPolicy answer) and the ARM RPC's error contract (additionalInfo).
 */
function policyFacts(error: RestErrorLike): FailureFacts {
  const body = errorBodyOf(error) ?? {}
  const [info] = policyViolations(body)
  const identifiers = /Policy identifiers: '(\[.*\])'/s.exec(error.message)?.[1]
  const named = (() => {
    try {
      return (
        JSON.parse(identifiers ?? '[]') as {
          policyAssignment?: { name?: string; id?: string }
          policyDefinition?: { name?: string; id?: string }
        }[]
      )[0]
    } catch {
      return undefined
    }
  })()
  const assignmentId = info?.policyAssignmentId ?? named?.policyAssignment?.id
  const assignmentName = info?.policyAssignmentDisplayName ?? named?.policyAssignment?.name
  const definitionId = info?.policyDefinitionId ?? named?.policyDefinition?.id
  const definitionName = info?.policyDefinitionDisplayName ?? named?.policyDefinition?.name
  const held = (info?.evaluationDetails?.evaluatedExpressions ?? []).filter(
    (expression) => (expression.result ?? 'True').toLowerCase() === 'true'
  )
  return {
    policyAssignment:
      [assignmentName && `'${assignmentName}'`, assignmentId && `(${assignmentId})`]
        .filter(Boolean)
        .join(' ') || undefined,
    policyDefinition:
      [definitionName && `'${definitionName}'`, definitionId && `(${definitionId})`]
        .filter(Boolean)
        .join(' ') || undefined,
    policyReason: held.length
      ? `it denies requests where ${held.map(describeExpression).join(' and ')}`
      : undefined
  }
}

/**
 * What a lock's 409 says: the locked scopes, and the lock level that refuses this kind of
 * operation (ReadOnly refuses writes; a delete is refused by CanNotDelete and ReadOnly alike).
 * The message names no level ("…cannot perform write operation because following scope(s) are
 * locked: '<scope>'…", as quoted in MicrosoftDocs/azure-docs#110791).
 */
function lockFacts(message: string): FailureFacts {
  const locked = /scope\(s\) are locked: (.*?)\. Please/i.exec(message)?.[1]
  const scopes = [...(locked ?? '').matchAll(/'([^']+)'/g)].map((match) => match[1])
  const operation = /cannot perform (\w+) operation/i.exec(message)?.[1]?.toLowerCase()
  return {
    lockedScope: scopes.length ? scopes.map((scope) => `'${scope}'`).join(', ') : undefined,
    lockKind:
      operation === 'delete' ? 'CanNotDelete or ReadOnly' : operation ? 'ReadOnly' : undefined
  }
}

/** The scope of an ARM AuthorizationFailed message. */
function authorizationScope(message: string): string | undefined {
  return /over scope '([^']+)'/i.exec(message)?.[1]
}

/** Which input sets each segment of an ARM id, by the provider the id belongs to. */
const scopeSegmentInputs: Record<string, string> = {
  subscriptions: 'subscription-id',
  factories: 'factory-name',
  managedvirtualnetworks: 'managed-virtual-network',
  managedprivateendpoints: 'endpoint-name',
  integrationruntimes: 'integration-runtime',
  linkedservices: 'linked-service-name',
  flexibleservers: 'server-name'
}

/**
 * The inputs that built an ARM id, with their values, for a fix to name:
 * "'subscription-id' (…), 'resource-group' (rg) and 'factory-name' (adf)". A server's resource
 * group is 'server-resource-group' (or part of 'server-id').
 */
export function inputsOfScope(scope: string): string {
  const segments = scope.split('/').filter(Boolean)
  const isServer = /\/providers\/Microsoft\.DBforPostgreSQL\//i.test(scope)
  const named: string[] = []
  for (let index = 0; index + 1 < segments.length; index += 1) {
    const kind = segments[index].toLowerCase()
    const value = decodeURIComponent(segments[index + 1])
    const input =
      kind === 'resourcegroups'
        ? isServer
          ? 'server-resource-group'
          : 'resource-group'
        : scopeSegmentInputs[kind]
    if (input) {
      named.push(`'${input}' (${value})`)
      index += 1
    }
  }
  if (named.length === 0) return `the inputs that name '${scope}'`
  const listed =
    named.length === 1 ? named[0] : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`
  return isServer ? `${listed} (or 'server-id', when the server is given by id)` : listed
}

/** Errors of @azure/identity's credentials (the token request failed, not the ARM request). */
function isCredentialError(error: unknown): boolean {
  return (
    error instanceof Error &&
    ['AuthenticationError', 'CredentialUnavailableError', 'AggregateAuthenticationError'].includes(
      error.name
    )
  )
}

/**
 * An ActionError for a failed SDK call: `what` is the operation in words ("read the factory"),
 * `resource` the ARM id (or name) it was about, `permission` the RBAC action it needs (for a 403
 * whose message does not name it). The hint is the catalogue's cause and fix (src/failures.ts).
 * Request bodies are never included.
 */
export function translateAzureError(
  error: unknown,
  what: string,
  resource: string,
  permission: string
): ActionError {
  if (error instanceof ActionError) return error
  const subject = resource ? `${what} '${resource}'` : what
  if (error instanceof Error && error.name === 'AbortError')
    return new CancelledError(`trying to ${subject}`)
  const message = error instanceof Error ? error.message : String(error)
  const area = isCredentialError(error) ? 'sign-in' : 'resource-manager'
  const signal = signalFromMessage(area, message)
  const facts = { scope: resource, scopeInputs: inputsOfScope(resource) }
  const failed = operationFailureOf(error)
  if (failed) {
    const explanation = explain({ ...signal, code: failed.code, operationFailed: true }, facts)
    return new ActionError(
      `Could not ${what}: Azure accepted the request, but its operation on '${resource}' failed (${failed.code}: ${failed.message})`,
      { resource, cause: error, hint: hintOf(explanation) }
    )
  }
  if (!isRestError(error)) {
    const explanation = explain(signal, facts)
    return new ActionError(`Could not ${subject}: ${message}`, {
      resource,
      cause: error,
      hint: hintOf(explanation)
    })
  }
  const status = error.statusCode
  const code = (error.code ?? '').toLowerCase()
  // A policy's or lock's refusal is about the resource requested: its full id, whatever `resource` says.
  const scope =
    authorizationScope(message) ??
    (permanentCodes.has(code) ? requestedId(error) : undefined) ??
    resource
  const governance =
    code === 'requestdisallowedbypolicy'
      ? policyFacts(error)
      : code === 'scopelocked'
        ? lockFacts(message)
        : {}
  const explanation = explain(
    { ...signal, status, code: error.code, permission: signal.permission ?? permission },
    { ...facts, scope, scopeInputs: inputsOfScope(scope), ...governance }
  )
  const detail = `${error.code ? `${error.code}: ` : ''}${message}`
  return new ActionError(`Could not ${subject} (HTTP ${status ?? 'error'}, ${detail})`, {
    resource,
    cause: error,
    hint: hintOf(explanation)
  })
}

/** What Azure (or the library) said, without the gateway's wording: the cause of an ActionError. */
export function answerText(error: unknown): string {
  const answer = error instanceof ActionError && error.cause !== undefined ? error.cause : error
  return answer instanceof Error ? answer.message : String(answer)
}

/** `error` as an ActionError: itself, or one carrying its message (a gateway call throws ActionErrors). */
export function asActionError(error: unknown): ActionError {
  if (error instanceof ActionError) return error
  return new ActionError(error instanceof Error ? error.message : String(error), { cause: error })
}

/** Runs `call`; a failure becomes an ActionError naming the operation, resource and permission. */
export async function describeFailure<T>(
  what: string,
  resource: string,
  permission: string,
  call: () => Promise<T>
): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw translateAzureError(error, what, resource, permission)
  }
}

/** ARM's 404 codes for a missing container: a typo in an input, not an absent resource. */
const missingContainerCodes = new Set(['resourcegroupnotfound', 'subscriptionnotfound'])

/**
 * Undefined when the call answers 404 (also as the cause of an ActionError): the resource is
 * absent. A missing resource group or subscription (ResourceGroupNotFound, SubscriptionNotFound)
 * is thrown: it means a wrong input.
 */
export async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    const code = (restErrorOf(error)?.code ?? '').toLowerCase()
    if (statusCodeOf(error) === 404 && !missingContainerCodes.has(code)) return undefined
    throw error
  }
}
