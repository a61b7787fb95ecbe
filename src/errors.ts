// Errors that say what failed, on which resource, and what to do; and the translation of SDK errors.

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

/** The HTTP status of a RestError, also when it is the cause of an ActionError. */
export function statusCodeOf(error: unknown): number | undefined {
  if (isRestError(error)) return error.statusCode
  return error instanceof Error && error.cause !== undefined ? statusCodeOf(error.cause) : undefined
}

/** The missing permission and scope from an ARM AuthorizationFailed message. */
function parseAuthorizationFailure(message: string): { action?: string; scope?: string } {
  const action = /perform action '([^']+)'/i.exec(message)?.[1]
  const scope = /over scope '([^']+)'/i.exec(message)?.[1]
  return { action, scope }
}

/** The built-in role that grants an action, for the hint. */
function roleFor(action: string): string {
  const lower = action.toLowerCase()
  if (lower.startsWith('microsoft.datafactory/')) {
    return lower.endsWith('/read')
      ? 'Reader (or Data Factory Contributor)'
      : 'Data Factory Contributor'
  }
  if (lower.startsWith('microsoft.dbforpostgresql/')) {
    return lower.endsWith('/read') ? 'Reader' : 'Contributor (or a custom role with this action)'
  }
  return lower.endsWith('/read') ? 'Reader' : 'Contributor'
}

/** What to do about statuses whose ARM message rarely says it. */
function defaultHint(status: number | undefined): string | undefined {
  if (status === 400)
    return 'Azure refused the request as invalid: check the names and inputs the message mentions, then run again.'
  if (status === 409)
    return 'The resource is busy or in a conflicting state (another operation may be running on it): wait a few minutes and run again.'
  if (status !== undefined && status >= 500)
    return 'Azure failed on its side (the SDK already retried): run again later, and check Azure status if it persists.'
  return undefined
}

/**
 * An ActionError for a failed SDK call: `what` is the operation in words ("read the factory"),
 * `resource` the id or name it was about, `permission` the action it needs (for a 403 whose
 * message does not name it). Request bodies are never included.
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
  if (!isRestError(error)) {
    const message = error instanceof Error ? error.message : String(error)
    return new ActionError(`Could not ${subject}: ${message}`, { resource, cause: error })
  }
  const status = error.statusCode
  const detail = `${error.code ? `${error.code}: ` : ''}${error.message}`
  const failed = `Could not ${subject} (HTTP ${status ?? 'error'}, ${detail})`
  if (status === 403) {
    const { action, scope } = parseAuthorizationFailure(error.message)
    const missing = action ?? permission
    return new ActionError(failed, {
      resource,
      cause: error,
      hint: `The signed-in identity lacks '${missing}' on scope '${scope ?? resource}'. Grant it ${roleFor(missing)} on that scope (role assignments can take a few minutes to apply).`
    })
  }
  if (status === 401) {
    return new ActionError(failed, {
      resource,
      cause: error,
      hint: 'The token was refused: check tenant-id, client-id and the federated credential (subject and audience) or the client secret, and that environment matches the cloud.'
    })
  }
  if (status === 404) {
    return new ActionError(failed, {
      resource,
      cause: error,
      hint: 'Check the name, resource group and subscription; the signed-in identity must also be able to see it.'
    })
  }
  if (status === 429) {
    return new ActionError(failed, {
      resource,
      cause: error,
      hint: 'Azure Resource Manager is throttling this identity; the SDK already retried with Retry-After. Run again later or reduce parallel jobs using the same identity.'
    })
  }
  return new ActionError(failed, { resource, cause: error, hint: defaultHint(status) })
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

/** Undefined when the call answers 404: the resource is absent. */
export async function unlessNotFound<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    if (statusCodeOf(error) === 404) return undefined
    throw error
  }
}
