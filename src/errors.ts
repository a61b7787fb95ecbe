// Errors that say what failed, on which resource, and what to do; and the translation of SDK errors
// (their likely cause and fix come from the catalogue in failures.ts).
import { explain, hintOf, signalFromMessage } from './failures.js'

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
  if (isRestError(error)) return error.statusCode
  return error instanceof Error && error.cause !== undefined ? statusCodeOf(error.cause) : undefined
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
  const scope = authorizationScope(message) ?? resource
  const explanation = explain(
    { ...signal, status, code: error.code, permission: signal.permission ?? permission },
    { ...facts, scope, scopeInputs: inputsOfScope(scope) }
  )
  const detail = `${error.code ? `${error.code}: ` : ''}${message}`
  return new ActionError(`Could not ${subject} (HTTP ${status ?? 'error'}, ${detail})`, {
    resource,
    cause: error,
    hint: hintOf(explanation)
  })
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
 * Undefined when the call answers 404: the resource is absent. A missing resource group or
 * subscription (ResourceGroupNotFound, SubscriptionNotFound) is thrown: it means a wrong input.
 */
export async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    const code = isRestError(error) ? (error.code ?? '').toLowerCase() : ''
    if (statusCodeOf(error) === 404 && !missingContainerCodes.has(code)) return undefined
    throw error
  }
}
