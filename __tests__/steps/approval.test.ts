import { describe, expect, it } from '@jest/globals'
import type { ApprovalOperation, AzureGateway } from '../../src/azure/gateway.js'
import {
  approvalDescription,
  approvePermission,
  connectionChanges,
  decideApproval,
  ensureApproval,
  howToApprove,
  maxApprovalDescriptionLength
} from '../../src/steps/approval.js'
import type { ConnectionView } from '../../src/steps/connections.js'
import type { EndpointResult } from '../../src/steps/endpoint.js'
import { connection } from '../fixtures/connections.js'
import { gatewayFailure, restError, type GatewayOperations } from '../fixtures/fake-azure.js'
import { fakeStepContext } from '../fixtures/step-context.js'

const peBase =
  '/subscriptions/msft/resourceGroups/vnet/providers/Microsoft.Network/privateEndpoints/'

function view(overrides: Partial<ConnectionView> = {}): ConnectionView {
  return {
    name: 'adf-demo.pg-pg-demo.guid',
    id: '/connections/c',
    privateEndpointId: `${peBase}adf-demo.pg-pg-demo`,
    status: 'Pending',
    description: '',
    provisioningState: 'Succeeded',
    ...overrides
  }
}

/** The connection as the SDK lists it. */
function listed(connection: ConnectionView) {
  return {
    name: connection.name,
    id: connection.id,
    privateEndpoint: { id: connection.privateEndpointId },
    privateLinkServiceConnectionState: {
      status: connection.status,
      ...(connection.description && { description: connection.description })
    },
    provisioningState: connection.provisioningState
  }
}

const newEndpoint: EndpointResult = {
  name: 'pg-pg-demo',
  id: '/endpoints/pg-pg-demo',
  privateEndpointId: '',
  exists: true,
  isNew: true,
  connectionStatus: 'Pending'
}

/** An approval's failure as the gateway throws it, for connection '/connections/c'. */
const approvalFailure = (cause: unknown) =>
  gatewayFailure(
    cause,
    'approve the private endpoint connection',
    '/connections/c',
    approvePermission
  )

/** An approval whose operation is done at the first look. */
const finished: ApprovalOperation = { poll: async () => ({ done: true }) }

/** A gateway whose server lists `looks` one after the other (the last one stays). */
function azureFor(
  looks: ConnectionView[][],
  beginApproveConnection: AzureGateway['beginApproveConnection']
): GatewayOperations {
  let look = 0
  return {
    listConnections: async () => (looks[Math.min(look++, looks.length - 1)] ?? []).map(listed),
    beginApproveConnection,
    listManagedPrivateEndpoints: async () => [
      {
        name: 'pg-pg-demo',
        id: '/endpoints/pg-pg-demo',
        properties: { connectionState: { status: 'Approved' } }
      }
    ]
  }
}

describe('approvalDescription', () => {
  const run = (repository: string) => ({
    repository,
    runId: '4242424242',
    runAttempt: '1',
    runUrl: `https://github.com/${repository}/actions/runs/4242424242`
  })

  it('names the repository, run and run URL when that fits', () => {
    expect(approvalDescription(run('o/r'))).toBe(
      'Approved by adf-pg-private-link for o/r run 4242424242 (https://github.com/o/r/actions/runs/4242424242)'
    )
  })

  it('drops the run URL first for a long repository name, keeping repository and run', () => {
    const repository = `octo-organisation/${'r'.repeat(40)}`
    const description = approvalDescription(run(repository))
    expect(description).toBe(`Approved by adf-pg-private-link for ${repository} run 4242424242`)
    expect(description.length).toBeLessThanOrEqual(maxApprovalDescriptionLength)
  })

  it('cuts a repository name too long for even the short form', () => {
    const description = approvalDescription(run(`o/${'x'.repeat(139)}`))
    expect(description).toBe(`adf-pg-private-link: o/${'x'.repeat(102)}...`)
  })

  it.each([1, 21, 40, 60, 80, 100, 139])(
    'stays within 128 characters for a %i-character repository name',
    (length) => {
      const description = approvalDescription(run(`o/${'x'.repeat(length)}`))
      expect(description.length).toBeLessThanOrEqual(128)
      expect(description).toMatch(/^(Approved by )?adf-pg-private-link.? (for )?o\/x/)
    }
  )
})

describe('decideApproval', () => {
  it('waits for an update in progress instead of sending a second approval', () => {
    expect(decideApproval(view({ provisioningState: 'Updating' }), 'auto')).toEqual({
      kind: 'await-update'
    })
    expect(decideApproval(view({ provisioningState: 'Updating' }), 'wait').kind).toBe(
      'await-approval'
    )
    expect(
      decideApproval(view({ provisioningState: 'Updating', status: 'Approved' }), 'auto')
    ).toEqual({ kind: 'approved' })
  })
})

describe('connectionChanges', () => {
  it('says which connections appeared, changed state or went away', () => {
    const foreign = view({ id: '/c/foreign', name: 'f', privateEndpointId: `${peBase}other.pe` })
    const mine = view({ id: '/c/mine', name: 'm' })
    const before = new Map([
      ['/c/foreign', foreign],
      ['/c/gone', view({ id: '/C/GONE', name: 'g' })]
    ])
    expect(connectionChanges(before, [foreign, { ...mine }])).toEqual([
      `appeared: m (private endpoint ${peBase}adf-demo.pg-pg-demo, Pending)`,
      `gone: g (private endpoint ${peBase}adf-demo.pg-pg-demo, Pending)`
    ])
    expect(
      connectionChanges(new Map([['/c/mine', mine]]), [
        { ...mine, id: '/C/MINE', status: 'Approved' }
      ])
    ).toEqual([`Pending → Approved: m (private endpoint ${peBase}adf-demo.pg-pg-demo, Approved)`])
  })
})

describe('howToApprove', () => {
  it('gives the portal blade and the az command with the real names', () => {
    const { context } = fakeStepContext({})
    expect(howToApprove(context.settings, 'adf-demo.pg-pg-demo.guid')).toBe(
      `in the Azure portal (the server 'pg-demo' > Networking > Private endpoint connections) or with: az postgres flexible-server private-endpoint-connection approve --resource-group rg-data --server-name pg-demo --name adf-demo.pg-pg-demo.guid --description "Data Factory adf-demo"`
    )
  })
})

describe('ensureApproval converges with runs that approve at the same time', () => {
  it('on 409 AnotherOperationInProgress, re-reads and finishes once the other run approved', async () => {
    let sent = 0
    const clients = azureFor(
      [[view()], [view({ provisioningState: 'Updating' })], [view({ status: 'Approved' })]],
      async () => {
        sent++
        throw approvalFailure(restError(409, 'AnotherOperationInProgress'))
      }
    )
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, newEndpoint)
    expect(outcome.done).toBe(
      "approved by a run at the same time; Data Factory is noticing it (the connection test's run waits for that)"
    )
    await outcome.value.factorySees
    expect(sent).toBe(1)
    expect(recorded.changes).toEqual([])
    expect(recorded.outputs['connection-state']).toBe('Approved')
  })

  it('retries an approval refused because the connection is not ready yet', async () => {
    const answers = [restError(409, 'Conflict'), restError(409, 'Conflict')].map(approvalFailure)
    const clients = azureFor([[view()]], async () => {
      const answer = answers.shift()
      if (answer) throw answer
      // Accepted: the operation is done at the next look.
      return finished
    })
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, newEndpoint)
    expect(outcome.done).toMatch(/^approved; Data Factory is noticing it/)
    await outcome.value.factorySees
    expect(answers).toEqual([])
    expect(recorded.changes).toEqual([
      { action: 'approved', resource: 'private-endpoint-connection', id: '/connections/c' }
    ])
  })

  it('gives up after approval-timeout when the server keeps answering 409', async () => {
    const clients = azureFor([[view()]], async () => {
      throw approvalFailure(restError(409, 'AnotherOperationInProgress'))
    })
    const { context } = fakeStepContext(clients, { inputs: { 'approval-timeout': '30s' } })
    await expect(ensureApproval(context, newEndpoint)).rejects.toThrow(
      /Timed out .* waiting for connection 'adf-demo\.pg-pg-demo\.guid' of endpoint 'pg-pg-demo' on server 'pg-demo' to be approved .*Azure answered 409/
    )
  })

  it("sets connection-state to the server's Disconnected when it refuses", async () => {
    const clients = azureFor([[view({ status: 'Disconnected' })]], async () => finished)
    const { context, recorded } = fakeStepContext(clients)
    await expect(ensureApproval(context, { ...newEndpoint, isNew: false })).rejects.toThrow(
      "The private endpoint connection on server 'pg-demo' is Disconnected."
    )
    expect(recorded.outputs['connection-state']).toBe('Disconnected')
  })
})

describe('an approval whose operation fails', () => {
  const failedOperation = () =>
    new Error(
      "The long-running operation has failed. InternalServerError. An unexpected error occured while processing the request. Tracking ID: 't-1'"
    )
  const poller = (): ApprovalOperation => ({
    poll: async () => {
      throw approvalFailure(failedOperation())
    }
  })

  it('re-reads the connection: rejected meanwhile, the error says Rejected, its description, on-drift: recreate and the operation error', async () => {
    const pending = view()
    const rejected = view({ status: 'Rejected', description: 'Not on the change calendar' })
    const { context, recorded } = fakeStepContext(
      azureFor([[pending], [rejected]], async () => poller())
    )
    const failure = await ensureApproval(context, newEndpoint).catch((error: unknown) => error)
    expect(failure).toMatchObject({
      message: expect.stringMatching(
        /is Rejected \("Not on the change calendar"\)\. Azure accepted this run's approval of connection '\/connections\/c' \(202\), but its operation failed \(InternalServerError: An unexpected error occured while processing the request\. Tracking ID: 't-1'\): the connection became Rejected on the server after this run read it Pending\./
      ),
      resource: '/connections/c',
      hint: expect.stringContaining('on-drift: recreate')
    })
    expect(recorded.outputs['connection-state']).toBe('Rejected')
  })

  it('still Pending after the failure: names the operation code, message and the connection id, not the generic hint', async () => {
    const pending = view()
    const { context } = fakeStepContext(azureFor([[pending]], async () => poller()))
    const failure = await ensureApproval(context, newEndpoint).catch((error: unknown) => error)
    expect(failure).toMatchObject({
      message: expect.stringContaining(
        "Azure accepted the request, but its operation on '/connections/c' failed (InternalServerError: An unexpected error occured"
      ),
      hint: expect.stringContaining(
        'Azure accepted the request and started an operation on /connections/c'
      )
    })
    expect((failure as Error).message).toContain('the server now lists the connection as Pending')
    expect((failure as { hint: string }).hint).not.toContain('does not recognise')
  })
})

describe('ensureApproval without the right to approve', () => {
  it('waits for someone else to approve, naming the permissions and how a DBA approves', async () => {
    const clients = azureFor([[view()], [view()], [view({ status: 'Approved' })]], async () => {
      throw approvalFailure(restError(403, 'AuthorizationFailed', 'The client has no access.'))
    })
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, newEndpoint)
    expect(outcome.done).toBe(
      "approved by someone else (no permission to approve); Data Factory is noticing it (the connection test's run waits for that)"
    )
    expect(recorded.changes).toEqual([])
    // Kept as the likely cause, should the wait for someone else then time out.
    expect(recorded.obstacles.map((error) => error.message)).toEqual([
      expect.stringMatching(/^Could not approve the private endpoint connection .*HTTP 403/)
    ])
    expect(recorded.warnings).toHaveLength(1)
    const [warning] = recorded.warnings
    expect(warning).toContain(
      "lacks 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' on scope '/connections/c'"
    )
    expect(warning).toContain(
      "'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action'"
    )
    expect(warning).toContain(
      'Waiting for someone else to approve instead; a DBA approves it in the Azure portal'
    )
  })
})

describe('waiting for the connection to appear', () => {
  it('logs each connection as it appears and lists them all when the wait times out', async () => {
    const foreign = view({
      id: '/c/f',
      name: 'f',
      privateEndpointId: `${peBase}adf-other.pg-pg-demo`
    })
    const renamed = view({
      id: '/c/r',
      name: 'r',
      privateEndpointId: `${peBase}pg-pg-demo.adf-demo`
    })
    const clients = azureFor([[foreign], [foreign], [foreign, renamed]], async () => finished)
    const { context, recorded } = fakeStepContext(clients, {
      inputs: { 'approval-timeout': '1m' }
    })
    const failure = ensureApproval(context, newEndpoint)
    await expect(failure).rejects.toThrow(
      /The server lists f \(private endpoint .*adf-other\.pg-pg-demo, Pending\); r \(private endpoint .*pg-pg-demo\.adf-demo, Pending\); none comes from a private endpoint named 'adf-demo\.pg-pg-demo' \(the endpoint states no properties\.resourceId/
    )
    const appeared = recorded.infos.filter((line) => line.includes('connection appeared'))
    expect(appeared).toEqual([
      `Server 'pg-demo' connection appeared: f (private endpoint ${peBase}adf-other.pg-pg-demo, Pending)`,
      `Server 'pg-demo' connection appeared: r (private endpoint ${peBase}pg-pg-demo.adf-demo, Pending)`
    ])
    await failure.catch((error: { hint?: string }) => {
      expect(error.hint).toContain(
        'az postgres flexible-server private-endpoint-connection approve'
      )
    })
  })

  it('matches private endpoint ids case-insensitively', async () => {
    const upper = view({ privateEndpointId: `${peBase}ADF-DEMO.PG-PG-DEMO`, status: 'Approved' })
    const clients = azureFor([[], [upper]], async () => finished)
    const { context } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, newEndpoint)
    expect(outcome.done).toMatch(/^already approved; Data Factory is noticing it/)
    await outcome.value.factorySees
  })

  it("approves the connection of the private endpoint the endpoint's properties.resourceId names, and says so", async () => {
    const stated = view({
      id: '/c/s',
      name: 's',
      privateEndpointId: `${peBase}pg-pg-demo.adf-demo`
    })
    const namedLikeUs = view({ id: '/c/n', name: 'n' })
    const approved: string[] = []
    const clients = azureFor([[namedLikeUs, stated]], async (name) => {
      approved.push(name)
      return finished
    })
    const { context, recorded } = fakeStepContext(clients)
    const outcome = await ensureApproval(context, {
      ...newEndpoint,
      privateEndpointId: `${peBase}PG-PG-DEMO.ADF-DEMO`
    })
    expect(approved).toEqual(['s'])
    expect(recorded.outputs['private-endpoint-connection-id']).toBe('/c/s')
    expect(outcome.found).toBe(
      "connection s: Pending (matched by the endpoint's properties.resourceId)"
    )
    await outcome.value.factorySees
  })
})

describe('decideApproval', () => {
  const pending = connection(`${peBase}f.e`)
  it.each([
    ['auto', 'approve'],
    ['wait', 'await-approval'],
    ['none', 'leave']
  ] as const)('a Pending connection in %s mode: %s', (mode, kind) => {
    expect(decideApproval(pending, mode).kind).toBe(kind)
    expect(decideApproval(undefined, mode).kind).toBe(kind)
  })
  it('does nothing to an Approved one and refuses Rejected/Disconnected at once', () => {
    expect(decideApproval({ ...pending, status: 'Approved' }, 'auto')).toEqual({ kind: 'approved' })
    expect(
      decideApproval({ ...pending, status: 'Rejected', description: 'no thanks' }, 'wait')
    ).toEqual({
      kind: 'refused',
      status: 'Rejected',
      description: 'no thanks'
    })
    expect(decideApproval({ ...pending, status: 'Disconnected' }, 'auto').kind).toBe('refused')
  })
  it('names the repository and run in the approval description', () => {
    expect(
      approvalDescription({
        repository: 'o/r',
        runId: '7',
        runAttempt: '1',
        runUrl: 'https://github.com/o/r/actions/runs/7'
      })
    ).toBe('Approved by adf-pg-private-link for o/r run 7 (https://github.com/o/r/actions/runs/7)')
  })
})
