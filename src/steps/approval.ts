// Approval: find the server-side connection this endpoint made, approve it (or wait for someone
// to), then wait until the factory's view of the endpoint says Approved. Runs that overlap (two
// pushes, a matrix) converge: a connection another run is approving is awaited, not fought over.
import { permissions } from '../azure/gateway.js'
import {
  ActionError,
  asActionError,
  isPermanentRefusal,
  isPolicyDenial,
  operationFailureOf,
  statusCodeOf,
  type OperationFailure
} from '../errors.js'
import type { RunContext } from '../io.js'
import { sameText } from '../names.js'
import type { StepOutcome } from '../report.js'
import { writesNothing, type ApprovalMode, type Settings } from '../settings.js'
import { WaitTimeoutError } from '../waiting.js'
import {
  describeConnection,
  describeMatchBasis,
  expectedPrivateEndpoint,
  identityOf,
  isRefusedStatus,
  listConnections,
  matchBasis,
  observeMatch,
  pickConnection,
  type ConnectionView
} from './connections.js'
import { requestOptions, type StepContext } from './context.js'
import { findEndpoint, type EndpointResult } from './endpoint.js'

export const approvePermission = permissions.connectionWrite
/** The action Azure checks besides the write when a connection is approved. */
const approveActionPermission = permissions.connectionApproval

export type ApprovalDecision =
  | { kind: 'approved' }
  | { kind: 'approve' }
  /** Another operation (another run's approval, say) is updating it: wait for its outcome. */
  | { kind: 'await-update' }
  | { kind: 'await-approval' }
  | { kind: 'leave' }
  | { kind: 'refused'; status: string; description: string }

/** What to do about the connection; `undefined` = it does not exist yet (the endpoint is new). */
export function decideApproval(
  connection: ConnectionView | undefined,
  mode: ApprovalMode
): ApprovalDecision {
  if (connection && sameText(connection.status, 'Approved')) return { kind: 'approved' }
  if (connection && isRefusedStatus(connection.status)) {
    return { kind: 'refused', status: connection.status, description: connection.description }
  }
  if (mode === 'auto') {
    return sameText(connection?.provisioningState, 'Updating')
      ? { kind: 'await-update' }
      : { kind: 'approve' }
  }
  return mode === 'wait' ? { kind: 'await-approval' } : { kind: 'leave' }
}

/**
 * Longest approval description sent. PostgreSQL publishes no cap; other private-link services
 * refuse more than 140 or 128 characters (hashicorp/terraform-provider-azurerm#25610).
 */
export const maxApprovalDescriptionLength = 128

/**
 * `Approved by adf-pg-private-link for <repository> run <id> (<run URL>)`, at most 128 characters:
 * the run URL goes first, then the wording, and a repository name too long for even that is cut.
 */
export function approvalDescription(run: RunContext): string {
  const candidates = [
    `Approved by adf-pg-private-link for ${run.repository} run ${run.runId} (${run.runUrl})`,
    `Approved by adf-pg-private-link for ${run.repository} run ${run.runId}`,
    `adf-pg-private-link: ${run.repository} run ${run.runId}`
  ]
  const fitting = candidates.find((text) => text.length <= maxApprovalDescriptionLength)
  return fitting ?? `${candidates[2].slice(0, maxApprovalDescriptionLength - 3)}...`
}

/** How a DBA approves the connection by hand ("… approves it <this>"): the portal blade or the Azure CLI. */
export function howToApprove(settings: Settings, connectionName?: string): string {
  const { resourceGroup, name } = settings.server
  return `in the Azure portal (the server '${name}' > Networking > Private endpoint connections) or with: az postgres flexible-server private-endpoint-connection approve --resource-group ${resourceGroup} --server-name ${name} --name ${connectionName ?? '<connection name>'} --description "Data Factory ${settings.factory.name}"`
}

/** The error for a refused connection; `connection-state` then says what the server says. */
function refused(
  context: StepContext,
  status: string,
  description: string,
  resource: string
): ActionError {
  context.ledger.output('connection-state', status)
  return new ActionError(
    `The private endpoint connection on server '${context.settings.server.name}' is ${status}${description ? ` ("${description}")` : ''}.`,
    {
      resource,
      hint: `A ${status} connection cannot be approved again: delete the managed private endpoint (on-drift: recreate, or mode: destroy) and run again so a new Pending connection is made.`
    }
  )
}

function approvalWait(
  context: StepContext,
  what: string,
  connectionName?: string
): Parameters<StepContext['waiter']['until']>[0] {
  return {
    what,
    timeoutMs: context.settings.approval.timeoutMs,
    timeoutInput: 'approval-timeout',
    hint: `Approve the connection on the server ${howToApprove(context.settings, connectionName)}; or give the identity '${approvePermission}' on the server; then run again, or raise approval-timeout.`
  }
}

/**
 * Lines for the log: each connection that appeared, changed state or went away since `before`
 * (keyed by connection id, case-insensitively).
 */
export function connectionChanges(
  before: ReadonlyMap<string, ConnectionView>,
  now: ConnectionView[]
): string[] {
  const lines: string[] = []
  const seen = new Set<string>()
  for (const connection of now) {
    const key = connection.id.toLowerCase()
    seen.add(key)
    const previous = before.get(key)
    if (!previous) lines.push(`appeared: ${describeConnection(connection)}`)
    else if (!sameText(previous.status, connection.status))
      lines.push(`${previous.status} → ${connection.status}: ${describeConnection(connection)}`)
  }
  for (const [key, connection] of before) {
    if (!seen.has(key)) lines.push(`gone: ${describeConnection(connection)}`)
  }
  return lines
}

/**
 * Waits for the connection to appear; fails at once when ambiguous. Logs every connection the
 * server lists as it changes, and on timeout names them all, so a naming mismatch shows at once.
 */
async function awaitConnection(
  context: StepContext,
  endpoint: EndpointResult
): Promise<ConnectionView> {
  const { settings } = context
  const identity = identityOf(context, endpoint)
  const wanted = expectedPrivateEndpoint(identity)
  const seen = new Map<string, ConnectionView>()
  try {
    return await context.waiter.until(
      {
        ...approvalWait(
          context,
          `server '${settings.server.name}' to list the connection of endpoint '${endpoint.name}' (private endpoint '${wanted}')`
        ),
        // Called right after a list that did not show it.
        justLooked: true
      },
      async () => {
        const connections = await listConnections(context)
        for (const line of connectionChanges(seen, connections)) {
          context.log.info(`Server '${settings.server.name}' connection ${line}`)
        }
        seen.clear()
        for (const connection of connections) seen.set(connection.id.toLowerCase(), connection)
        const connection = pickConnection(context, connections, endpoint)
        return connection
          ? { done: true, value: connection }
          : { done: false, status: `no connection from '${wanted}' yet` }
      }
    )
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error
    const listed = [...seen.values()].map(describeConnection)
    const byName = matchBasis(identity) === 'name'
    throw new ActionError(
      `${error.message} The server lists ${listed.length ? listed.join('; ') : 'no connections'}; none comes from ${byName ? `a private endpoint named '${wanted}' (the endpoint states no properties.resourceId, so the name is the only clue)` : `private endpoint ${wanted} (the endpoint's properties.resourceId)`}.`,
      {
        resource: settings.server.id,
        hint: byName
          ? `If one of those is this factory's (Data Factory may name its private endpoint otherwise), approve it by hand ${howToApprove(settings)}. Otherwise check the endpoint in Data Factory Studio (Manage > Managed private endpoints), or raise approval-timeout.`
          : `Data Factory may not have asked the server yet: check the endpoint in Data Factory Studio (Manage > Managed private endpoints), or raise approval-timeout.`
      }
    )
  }
}

/** Waits until the server says Approved; Rejected/Disconnected fail at once. */
async function awaitServerApproval(
  context: StepContext,
  endpoint: EndpointResult,
  connectionName: string
): Promise<ConnectionView> {
  return context.waiter.until(
    approvalWait(
      context,
      `someone to approve connection '${connectionName}' of endpoint '${endpoint.name}' on server '${context.settings.server.name}'`,
      connectionName
    ),
    async () => {
      const connection = await observeMatch(context, endpoint)
      if (!connection) return { done: false, status: 'connection gone' }
      const decision = decideApproval(connection, 'wait')
      if (decision.kind === 'refused')
        throw refused(context, decision.status, decision.description, connection.id)
      return decision.kind === 'approved'
        ? { done: true, value: connection }
        : { done: false, status: connection.status }
    }
  )
}

/**
 * Waits until the factory's view of the endpoint says Approved (can take minutes). `justApproved`:
 * this run's approval has only now finished, so Data Factory cannot know yet; the first look waits.
 */
async function awaitFactoryApproval(
  context: StepContext,
  endpointName: string,
  justApproved: boolean
): Promise<string> {
  return context.waiter.until(
    {
      ...approvalWait(context, `Data Factory to see endpoint '${endpointName}' as Approved`),
      justLooked: justApproved
    },
    async () => {
      const endpoint = await findEndpoint(context, endpointName)
      const status = endpoint?.connectionStatus ?? ''
      if (isRefusedStatus(status)) {
        throw refused(
          context,
          status,
          endpoint?.connectionDescription ?? '',
          endpoint?.id ?? endpointName
        )
      }
      return sameText(status, 'Approved')
        ? { done: true, value: status }
        : { done: false, status: status || 'unknown' }
    }
  )
}

type ApproveResult = 'approved' | 'conflict' | 'forbidden'

/**
 * After an approval whose operation failed: what the connection really is now. Azure accepts the
 * approval of a connection rejected meanwhile and fails only its operation, with InternalServerError
 * (azcli-postgresql_pec-put-approve-rejected-202.json, azcli-postgresql_asyncop-approve-rejected-failed.json),
 * so the state, not the operation's words, says why. Returns `conflict` when it is Approved after all
 * (the caller looks again); throws otherwise.
 */
async function explainFailedApproval(
  context: StepContext,
  connection: ConnectionView,
  failed: OperationFailure,
  error: unknown
): Promise<'conflict'> {
  const now = (await listConnections(context)).find((listed) => sameText(listed.id, connection.id))
  const accepted = `Azure accepted this run's approval of connection '${connection.id}' (202), but its operation failed (${failed.code}: ${failed.message})`
  if (now && isRefusedStatus(now.status)) {
    const base = refused(context, now.status, now.description, now.id)
    throw new ActionError(
      `${base.message} ${accepted}: the connection became ${now.status} on the server after this run read it ${connection.status}.`,
      { resource: now.id, cause: error, hint: base.hint }
    )
  }
  if (now && sameText(now.status, 'Approved')) return 'conflict'
  const translated = asActionError(error)
  throw new ActionError(
    `${translated.message}; the server now lists the connection ${now ? `as ${now.status || 'no state'}` : 'no more'}.`,
    { resource: connection.id, cause: error, hint: translated.hint }
  )
}

/**
 * A refusal of the approval, with what a policy on private endpoints means for this one: Data
 * Factory's private endpoint lives in a Microsoft-managed subscription, so a rule that wants the
 * server's own subscription denies every approval of it; the Cloud Adoption Framework advises an
 * exemption for data platforms (learn.microsoft.com/azure/cloud-adoption-framework/ready/
 * azure-best-practices/limit-cross-tenant-private-endpoint-connections).
 */
function withApprovalPolicyNote(
  error: ActionError,
  context: StepContext,
  connection: ConnectionView
): ActionError {
  const subscriptionOf = (id: string) => id.split('/')[2]?.toLowerCase()
  const elsewhere =
    connection.privateEndpointId &&
    subscriptionOf(connection.privateEndpointId) !== subscriptionOf(context.settings.server.id)
  if (!elsewhere || !isPolicyDenial(error)) return error
  return new ActionError(error.message, {
    resource: error.resource,
    cause: error.cause,
    hint: `${error.hint} Data Factory makes the private endpoint '${connection.privateEndpointId}' in a Microsoft-managed subscription, so a rule that wants private endpoints in the server's subscription denies this approval whoever sends it: an exemption for the server (or an Audit effect for data platforms, as the Cloud Adoption Framework advises for managed virtual networks) is the way through.`
  })
}

/**
 * Sends the approval and awaits its operation. 409 (another operation in progress, or the
 * connection not ready yet) is `conflict`: the caller looks again. 403 warns with the missing
 * permission and is `forbidden` (then we wait for someone else instead); with `onForbidden: 'throw'`
 * (mode: approve, where nobody else will) the 403 is thrown as an ActionError naming both actions.
 * An operation that fails is explained by the connection's state read again (see explainFailedApproval).
 */
async function approve(
  context: StepContext,
  connection: ConnectionView,
  onForbidden: 'wait' | 'throw' = 'wait'
): Promise<ApproveResult> {
  const { settings } = context
  try {
    const operation = await context.azure.beginApproveConnection(
      connection.name,
      {
        description: approvalDescription(context.run),
        // Policy rules on approvals read it from the body.
        privateEndpointId: connection.privateEndpointId
      },
      requestOptions(context)
    )
    // Our waiter drives the operation: the SDK's pollUntilDone would look at once after the 202.
    await context.waiter.until(
      {
        ...approvalWait(
          context,
          `the approval operation on connection '${connection.name}' of server '${settings.server.name}'`,
          connection.name
        ),
        justLooked: true,
        retryAfterMs: operation.retryAfterMs
      },
      async () => {
        const { done, retryAfterMs } = await operation.poll(requestOptions(context))
        return done
          ? { done: true, value: undefined }
          : { done: false, status: 'InProgress', retryAfterMs }
      }
    )
    return 'approved'
  } catch (error) {
    const failed = operationFailureOf(error)
    if (failed) return explainFailedApproval(context, connection, failed, error)
    const status = statusCodeOf(error)
    // A Deny policy or a lock refuses anyone's approval: explained at once, never waited out.
    const permanent = isPermanentRefusal(error)
    if (status === 409 && !permanent) return 'conflict'
    const translated = asActionError(error)
    if (permanent) throw withApprovalPolicyNote(translated, context, connection)
    if (status !== 403) throw translated
    if (onForbidden === 'throw')
      throw new ActionError(translated.message, {
        resource: translated.resource,
        cause: error,
        hint: `${translated.hint} Approving also needs '${approveActionPermission}' (both are in roles/adf-pg-private-link-dba.json).`
      })
    context.ledger.obstacle(translated)
    context.log.warning(
      `${translated.message} ${translated.hint} Approving also needs '${approveActionPermission}'. Waiting for someone else to approve instead; a DBA approves it ${howToApprove(settings, connection.name)}.`
    )
    return 'forbidden'
  }
}

/** Who approved in the end: this run, another (a run at the same time), or nobody yet (no right). */
export type ApprovalOutcome = 'by-us' | 'by-another' | 'forbidden'

/**
 * Approves, converging with runs that approve at the same time: a connection being updated, or
 * a 409 answer, means read it again with `reread` (with backoff, within approval-timeout) until it
 * is Approved, by this run or another. A refused connection throws; so does a 403 with
 * `onForbidden: 'throw'` (see approve). Apply and mode: approve both approve through this.
 */
export async function approveConverging(
  context: StepContext,
  first: ConnectionView,
  reread: () => Promise<ConnectionView | undefined>,
  options: { what: string; onForbidden?: 'wait' | 'throw' }
): Promise<ApprovalOutcome> {
  let current: ConnectionView | undefined = first
  return context.waiter.until(approvalWait(context, options.what, first.name), async () => {
    current ??= await reread()
    const connection = current
    current = undefined
    if (!connection) return { done: false, status: 'connection gone' }
    const decision = decideApproval(connection, 'auto')
    switch (decision.kind) {
      case 'refused':
        throw refused(context, decision.status, decision.description, connection.id)
      case 'approved':
        return { done: true, value: 'by-another' }
      case 'approve': {
        const result = await approve(context, connection, options.onForbidden)
        if (result === 'conflict')
          return { done: false, status: 'Azure answered 409 (another operation or not ready)' }
        return { done: true, value: result === 'approved' ? 'by-us' : 'forbidden' }
      }
      default:
        return { done: false, status: 'another operation is updating it' }
    }
  })
}

/**
 * The endpoint's connection: from the list the earlier steps read (a reused endpoint), else from
 * a new list (an endpoint made after that read).
 */
async function firstLook(
  context: StepContext,
  endpoint: EndpointResult
): Promise<ConnectionView | undefined> {
  return endpoint.connections
    ? pickConnection(context, endpoint.connections, endpoint)
    : observeMatch(context, endpoint)
}

const plannedWork: Record<ApprovalDecision['kind'], string> = {
  approved: 'nothing to change',
  approve: 'would approve',
  'await-update': 'would wait for the update in progress',
  'await-approval': 'would wait for someone to approve',
  leave: 'would leave it (approval: none)',
  refused: 'would fail'
}

/** Plan: what apply would do, from one look (the connection may not exist yet). */
async function planApproval(
  context: StepContext,
  endpoint: EndpointResult
): Promise<StepOutcome<{ approved: boolean }>> {
  const { settings, ledger } = context
  const connection = endpoint.exists ? await firstLook(context, endpoint) : undefined
  const decision = decideApproval(connection, settings.approval.mode)
  if (decision.kind === 'refused') {
    throw refused(context, decision.status, decision.description, connection?.id ?? '')
  }
  if (connection) ledger.output('private-endpoint-connection-id', connection.id)
  if (decision.kind === 'approve') {
    ledger.change({
      action: 'approve',
      resource: 'private-endpoint-connection',
      id:
        connection?.id ??
        `(the connection of ${expectedPrivateEndpoint(identityOf(context, endpoint))})`
    })
  }
  return {
    value: { approved: decision.kind === 'approved' },
    found: connection ? `connection ${connection.name}: ${connection.status}` : 'no connection yet',
    done: plannedWork[decision.kind]
  }
}

export interface ApprovalResult {
  approved: boolean
  /**
   * Settles once Data Factory's view of the endpoint says Approved. Already started, so the later
   * steps' writes overlap Data Factory's minutes of noticing; only the connection test's run (or,
   * without a test, the end of the run) awaits it. Rejects as the wait does (refused, timed out).
   * Undefined when there is nothing to notice (plan, approval: none, Data Factory shows Approved).
   */
  factorySees?: Promise<void>
}

/** Without a connection test: the step that waits for Data Factory to see the approval. */
export async function factoryNoticed(factorySees: Promise<void>): Promise<StepOutcome<void>> {
  await factorySees
  return {
    value: undefined,
    found: 'the connection approved on the server',
    done: 'Data Factory sees it Approved'
  }
}

const approvedBy: Record<ApprovalOutcome, string> = {
  'by-us': 'approved',
  'by-another': 'approved by a run at the same time',
  forbidden: 'approved by someone else (no permission to approve)'
}

export async function ensureApproval(
  context: StepContext,
  endpoint: EndpointResult
): Promise<StepOutcome<ApprovalResult>> {
  const { settings, ledger } = context
  if (writesNothing(ledger.mode)) return planApproval(context, endpoint)
  const mode = settings.approval.mode
  const listed = await firstLook(context, endpoint)
  if (mode === 'none') {
    if (listed) ledger.output('private-endpoint-connection-id', listed.id)
    return {
      value: { approved: sameText(listed?.status, 'Approved') },
      found: listed ? `connection ${listed.name}: ${listed.status}` : 'no connection yet',
      done: 'left as is (approval: none)'
    }
  }
  // No connection in the list just read: the wait's first look comes after a pause.
  const connection = listed ?? (await awaitConnection(context, endpoint))
  ledger.output('private-endpoint-connection-id', connection.id)
  const decision = decideApproval(connection, mode)
  let done: string
  let justApproved = false
  if (decision.kind === 'refused') {
    throw refused(context, decision.status, decision.description, connection.id)
  } else if (decision.kind === 'approved') {
    done = 'already approved'
  } else if (mode === 'auto') {
    const outcome = await approveConverging(
      context,
      connection,
      () => observeMatch(context, endpoint),
      {
        what: `connection '${connection.name}' of endpoint '${endpoint.name}' on server '${settings.server.name}' to be approved`
      }
    )
    if (outcome === 'by-us') {
      justApproved = true
      ledger.change({
        action: 'approved',
        resource: 'private-endpoint-connection',
        id: connection.id
      })
      ledger.output('approved-connections', JSON.stringify([connection.id]))
    }
    if (outcome === 'forbidden') await awaitServerApproval(context, endpoint, connection.name)
    done = approvedBy[outcome]
  } else {
    context.log.info(
      `Waiting for connection '${connection.name}' on server '${settings.server.name}' to be approved: a DBA approves it ${howToApprove(settings, connection.name)}.`
    )
    await awaitServerApproval(context, endpoint, connection.name)
    done = 'approved by someone else'
  }
  const found = `connection ${connection.name}: ${connection.status} (${describeMatchBasis(identityOf(context, endpoint))})`
  // A re-run of a finished setup needs no second look at the factory.
  if (sameText(endpoint.connectionStatus, 'Approved')) {
    ledger.output('connection-state', endpoint.connectionStatus)
    return {
      value: { approved: true },
      found,
      done: `${done}; Data Factory sees it Approved`
    }
  }
  const factorySees = awaitFactoryApproval(context, endpoint.name, justApproved).then((view) => {
    ledger.output('connection-state', view)
  })
  // Marks it handled until its awaiter comes; a run that fails first stops it (see main's abort).
  factorySees.catch(() => undefined)
  return {
    value: { approved: true, factorySees },
    found,
    done: `${done}; Data Factory is noticing it (the connection test's run waits for that)`
  }
}
