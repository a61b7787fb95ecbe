// Separation of duties: the data team's identity may not approve connections on the DBA's server
// (roles/adf-pg-private-link-data-team.json), so its run waits (approval: wait); the DBA's own run,
// `mode: approve` with only server read + approve (roles/adf-pg-private-link-dba.json), approves
// this factory's connection and no other, and the data team's run then completes.
import { describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { repositoryRoot } from '../runner/index.js'
import {
  connectionFrom,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  factoryId,
  ids,
  scenarioTimeoutMs,
  serverConnections,
  serverId,
  sleep,
  useEmulator,
  type E2eRun
} from './harness.js'

function actionsOf(file: string): string[] {
  return (
    JSON.parse(readFileSync(path.join(repositoryRoot, 'roles', file), 'utf8')) as {
      Actions: string[]
    }
  ).Actions
}

/** The DBA's identity: another service principal, trusted for the same repository's tokens. */
const dbaClientId = '5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170'

const session = useEmulator(
  e2eScenario((scenario) => {
    const deployer = scenario.principals[0]
    deployer.roles = []
    scenario.principals.push({
      ...structuredClone(deployer),
      displayName: 'github-octo-repo-dba',
      clientId: dbaClientId,
      objectId: '6f5e4d3c-2b1a-4098-8f7e-d6c5b4a39281'
    })
  })
)

function grantRoles(): void {
  const team = actionsOf('adf-pg-private-link-data-team.json')
  session.emulator.admin.setRoles(ids.clientId, [
    { scope: factoryId(), actions: team },
    { scope: serverId(), actions: team }
  ])
  session.emulator.admin.setRoles(dbaClientId, [
    { scope: serverId(), actions: actionsOf('adf-pg-private-link-dba.json') }
  ])
}

/** The DBA's run: only the server and the factory's name. */
function dbaInputs(): Record<string, string> {
  return { mode: 'approve', 'client-id': dbaClientId, database: '', username: '', password: '' }
}

/** Waits (bounded) until the server lists our factory's connection as Pending. */
async function untilPending(): Promise<void> {
  const deadline = Date.now() + 20_000
  while (
    connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)?.properties
      .privateLinkServiceConnectionState.status !== 'Pending'
  ) {
    if (Date.now() > deadline) throw new Error('No Pending connection from our factory in time')
    await sleep(50)
  }
}

describe('mode: approve (the DBA) with approval: wait (the data team)', () => {
  test(
    "approves this factory's connection and no decoy; the data team's run then succeeds",
    async () => {
      grantRoles()
      const decoyBefore = serverConnections(session.state()).filter(
        (connection) => !connection.properties.privateEndpoint.id.includes(`/${ids.factoryName}.`)
      )
      expect(decoyBefore).toHaveLength(1)
      let dbaRun: E2eRun | undefined
      const teamRun = await session.run(
        { approval: 'wait', 'approval-timeout': '40s' },
        {
          meanwhile: async () => {
            await untilPending()
            dbaRun = await session.run(dbaInputs())
          }
        }
      )
      expect(dbaRun?.errors).toEqual([])
      expect(dbaRun?.exitCode).toBe(0)
      const ours = connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)
      expect(JSON.parse(dbaRun?.outputs['approved-connections'] ?? '[]')).toEqual([ours?.id])
      expect(dbaRun?.summary).toMatch(/1 connection\(s\) from .*1 other connection\(s\)/)
      // Only the DBA's identity sent the approval, and only for our connection.
      const approvals = (dbaRun?.requests ?? []).filter(
        (entry) => entry.method === 'PUT' && entry.path.includes('/privateEndpointConnections/')
      )
      expect(approvals.map((entry) => [entry.caller, entry.path.split('/').pop()])).toEqual([
        [dbaClientId, ours?.name]
      ])
      expect(
        serverConnections(session.state()).filter(
          (connection) => !connection.properties.privateEndpoint.id.includes(`/${ids.factoryName}.`)
        )
      ).toEqual(decoyBefore)

      expect(teamRun.errors).toEqual([])
      expect(teamRun.exitCode).toBe(0)
      expect(teamRun.outputs['connection-test']).toBe('succeeded')
      expect(teamRun.outputs['approved-connections']).toBe('[]') // the DBA approved, not this run
      expectOnlyOurEndpointApproved(session.state())
    },
    scenarioTimeoutMs
  )

  test(
    'a second approve run finds nothing to approve and changes nothing',
    async () => {
      const again = await session.run(dbaInputs())
      expect(again.exitCode).toBe(0)
      expect(again.outputs['approved-connections']).toBe('[]')
      expect(again.changes).toEqual([])
      expect(again.summary).toContain('left as is')
    },
    scenarioTimeoutMs
  )

  test(
    "with read access to the factory's endpoints, matches by their properties.resourceId",
    async () => {
      await session.reset()
      grantRoles()
      session.emulator.admin.setRoles(dbaClientId, [
        { scope: serverId(), actions: actionsOf('adf-pg-private-link-dba.json') },
        {
          scope: factoryId(),
          actions: [
            'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/read'
          ]
        }
      ])
      expect((await session.run({ approval: 'none' })).exitCode).toBe(0)
      const approve = await session.run(dbaInputs())
      expect(approve.errors).toEqual([])
      expect(approve.summary).toContain(
        "from the managed private endpoints factory 'adf-demo' lists"
      )
      const ours = connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)
      expect(ours?.properties.privateLinkServiceConnectionState.status).toBe('Approved')
      expect(JSON.parse(approve.outputs['approved-connections'])).toEqual([ours?.id])
    },
    scenarioTimeoutMs
  )
})
