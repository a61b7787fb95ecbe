// Scenarios 3–6: approval by someone else, its timeout, a DBA's rejection, and `auto` without the
// right to approve; a DBA acts through the emulator's admin API while the action waits.
import { beforeEach, describe, expect, test } from '@jest/globals'
import {
  changeWrites,
  connectionFrom,
  dbaDecides,
  e2eScenario,
  factoryState,
  ids,
  scenarioTimeoutMs,
  sleep,
  useEmulator,
  type DbaRecord,
  type E2eRun,
  type EmulatorState
} from './harness.js'
import type { RunningEmulator } from '../emulator/index.js'

const session = useEmulator(e2eScenario())
const approvePermission =
  'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
const dbaDelayMs = 1_200

beforeEach(() => session.reset())

function approvalRequests(run: E2eRun) {
  return run.requests.filter(
    (entry) => entry.method === 'PUT' && entry.path.includes('/privateEndpointConnections/')
  )
}

/**
 * Holds the action's approval PUT for a moment and, while it is held (after the action read the
 * connection Pending), rejects the connection as a DBA would.
 */
async function rejectWhileApprovalHeld(emulator: RunningEmulator, description: string) {
  const held = emulator.admin.injectFault({
    kind: 'delay',
    method: 'PUT',
    path: '/privateEndpointConnections/[^/]+$',
    delayMs: 1_500
  })
  const deadline = Date.now() + 20_000
  while (emulator.admin.faults().some((fault) => fault.id === held.id)) {
    if (Date.now() > deadline) throw new Error('The approval PUT never came')
    await sleep(25)
  }
  const connection = connectionFrom(
    emulator.admin.snapshot() as EmulatorState,
    ids.factoryName,
    ids.defaultEndpointName
  )
  emulator.admin.reject({
    server: ids.serverName,
    connectionName: connection?.name,
    description
  })
}

function ourConnection() {
  return connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)
}

describe('approval', () => {
  test(
    '3 approval: wait succeeds once the DBA approves, and the action sends no approval itself',
    async () => {
      const dba: Partial<DbaRecord> = {}
      const run = await session.run(
        { approval: 'wait', 'approval-timeout': '30s' },
        {
          meanwhile: (emulator) =>
            dbaDecides(
              emulator,
              { verdict: 'approve', afterMs: dbaDelayMs, description: 'OK by DBA' },
              dba
            )
        }
      )
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(approvalRequests(run)).toEqual([])
      expect(run.changes.map((change) => change.action)).not.toContain('approved')
      expect(ourConnection()?.properties.privateLinkServiceConnectionState).toMatchObject({
        status: 'Approved',
        description: 'OK by DBA'
      })
      // It really waited for the DBA: the linked service was written only after the approval.
      const linkedServicePut = run.requests.find(
        (entry) => entry.method === 'PUT' && entry.path.includes('/linkedservices/')
      )
      expect(Date.parse(linkedServicePut?.time ?? '')).toBeGreaterThan(dba.decidedAt ?? Infinity)
      expect(run.outputs).toMatchObject({
        'connection-state': 'Approved',
        'connection-test': 'succeeded'
      })
      expect(run.summary).toMatch(/^\| ✅ Approval \|.*approved by someone else/m)
    },
    scenarioTimeoutMs
  )

  test(
    '4 approval: wait with nobody approving fails after approval-timeout, says what to do, keeps the endpoint',
    async () => {
      const run = await session.run({ approval: 'wait', 'approval-timeout': '1500ms' })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      const [error] = run.errors
      expect(error).toMatch(/Timed out/)
      expect(error).toContain("'approval-timeout'")
      expect(error).toMatch(/Approve the connection on the server/)
      expect(run.summary).toMatch(/^\| ❌ Approval \|/m)
      expect(run.summary).toContain('approval-timeout')
      expect(run.durationMs).toBeGreaterThanOrEqual(1_500)
      // The endpoint stays for a later run to pick up; nothing was deleted or approved.
      expect(factoryState(session.state()).managedPrivateEndpoints.map((e) => e.name)).toEqual([
        ids.defaultEndpointName
      ])
      expect(ourConnection()?.properties.privateLinkServiceConnectionState.status).toBe('Pending')
      expect(run.requests.filter((entry) => entry.method === 'DELETE')).toEqual([])
      expect(approvalRequests(run)).toEqual([])
      expect(run.outputs).toMatchObject({
        'connection-state': 'Pending',
        'connection-test': 'skipped'
      })
    },
    scenarioTimeoutMs
  )

  test(
    '5 a DBA rejection while waiting fails at once with the state and the DBA description',
    async () => {
      const dba: Partial<DbaRecord> = {}
      const description = 'Not on the change calendar (CHG-4711)'
      const run = await session.run(
        { approval: 'wait', 'approval-timeout': '40s' },
        {
          meanwhile: (emulator) =>
            dbaDecides(emulator, { verdict: 'reject', afterMs: 300, description }, dba)
        }
      )
      const finishedAt = Date.now()
      expect(run.exitCode).toBe(1)
      expect(run.errors).toHaveLength(1)
      expect(run.errors[0]).toContain('Rejected')
      expect(run.errors[0]).toContain(description)
      expect(run.summary).toContain(description)
      expect(run.summary).toMatch(/^\| ❌ Approval \|/m)
      // "At once": well within the 40 s approval-timeout.
      expect(finishedAt - (dba.decidedAt ?? 0)).toBeLessThan(8_000)
      expect(run.outputs['connection-test']).toBe('skipped')
      expect(factoryState(session.state()).linkedservices).toEqual([])
      expect(
        changeWrites(run.requests).filter((entry) => entry.path.includes('/linkedservices/'))
      ).toEqual([])
    },
    scenarioTimeoutMs
  )

  test(
    '6 approval: auto without the approval permission reports the 403 with the permission, then waits for the DBA',
    async () => {
      session.emulator.admin.setRoles(ids.clientId, [
        { scope: ids.resourceGroupScope, role: 'Contributor', notActions: [approvePermission] }
      ])
      const dba: Partial<DbaRecord> = {}
      const run = await session.run(
        { approval: 'auto', 'approval-timeout': '30s' },
        {
          meanwhile: (emulator) =>
            dbaDecides(
              emulator,
              { verdict: 'approve', afterMs: dbaDelayMs, description: 'Approved by DBA' },
              dba
            )
        }
      )
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      const refused = approvalRequests(run)
      expect(refused.map((entry) => entry.status)).toEqual([403])
      expect(Date.parse(refused[0].time)).toBeLessThan(dba.decidedAt ?? 0)
      const explained = run.warnings.filter((warning) => warning.includes(approvePermission))
      expect(explained).toHaveLength(1)
      expect(run.stdout).toMatch(/Waiting for someone/)
      expect(ourConnection()?.properties.privateLinkServiceConnectionState).toMatchObject({
        status: 'Approved',
        description: 'Approved by DBA'
      })
      expect(run.outputs['connection-test']).toBe('succeeded')
      expect(run.summary).toMatch(/^\| ✅ Approval \|.*no permission to approve/m)
    },
    scenarioTimeoutMs
  )

  test(
    '7 a DBA rejects between our read and our approval PUT: Azure accepts it (202) and the operation fails; the error says Rejected, the description and on-drift: recreate',
    async () => {
      const description = 'Not on the change calendar (CHG-4712)'
      const run = await session.run(
        { 'approval-timeout': '30s' },
        { meanwhile: (emulator) => rejectWhileApprovalHeld(emulator, description) }
      )
      expect(run.exitCode).toBe(1)
      expect(approvalRequests(run).map((entry) => entry.status)).toEqual([202])
      expect(run.errors).toHaveLength(1)
      const [error] = run.errors
      expect(error).toContain('Rejected')
      expect(error).toContain(description)
      expect(error).toContain('on-drift: recreate')
      // The operation's own error code and message, and the connection's full ARM id.
      expect(error).toContain('InternalServerError')
      expect(error).toContain(ourConnection()?.id ?? 'no connection')
      expect(error).not.toMatch(/does not recognise/)
      expect(run.outputs['connection-state']).toBe('Rejected')
      expect(run.summary).toMatch(/^\| ❌ Approval \|/m)
      expect(factoryState(session.state()).linkedservices).toEqual([])
    },
    scenarioTimeoutMs
  )
})
