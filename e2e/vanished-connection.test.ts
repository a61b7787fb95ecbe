// Connections that vanish: after apply, the server-side connection is gone (a DBA deleted it, or the
// server was recreated under the same name) while Data Factory still shows the endpoint Approved.
// That is drift: a re-run says so at once (never a wait until approval-timeout), and on-drift:
// recreate repairs it with a new endpoint whose new connection is approved.
import { beforeEach, describe, expect, test } from '@jest/globals'
import {
  connectionFrom,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  factoryState,
  ids,
  scenarioTimeoutMs,
  useEmulator,
  type E2eSession
} from './harness.js'

const session = useEmulator(e2eScenario())

/** A finished setup: endpoint, approved connection, linked service (tested). */
async function setUp(): Promise<void> {
  await session.reset()
  const first = await session.run()
  expect(first.errors).toEqual([])
  expect(first.exitCode).toBe(0)
}

const breakages: [string, (session: E2eSession) => void, RegExp][] = [
  [
    'a DBA deletes the connection on the server',
    (running) =>
      running.emulator.admin.deleteConnection({
        server: ids.serverName,
        privateEndpointName: ids.defaultEndpointName,
        factoryName: ids.factoryName
      }),
    /no connection from it/
  ],
  [
    'the server is recreated under the same name',
    (running) => running.emulator.admin.recreateServer(ids.serverName),
    /server 'pg-demo' was recreated/
  ]
]

describe.each(breakages)('when %s (Data Factory still shows Approved)', (_what, breakIt, why) => {
  beforeEach(async () => {
    await setUp()
    breakIt(session)
    expect(factoryState(session.state()).managedPrivateEndpoints).toMatchObject([
      { name: ids.defaultEndpointName, properties: { connectionState: { status: 'Approved' } } }
    ])
    expect(connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)).toBe(
      undefined
    )
  }, scenarioTimeoutMs)

  test(
    'apply reports drift at once, naming the cause and the fix; recreate repairs it',
    async () => {
      const again = await session.run({ 'approval-timeout': '40s' })
      expect(again.exitCode).toBe(1)
      const error = again.errors.join('\n')
      expect(error).toMatch(why)
      expect(error).toContain('on-drift: recreate')
      // The hint is the catalogue's fix for a vanished connection, not the general drift hint.
      expect(error).toContain('whose new Pending connection is approved as on a first run')
      expect(error).not.toMatch(/approval-timeout/)
      // Nothing was written to find that out.
      expect(
        again.requests.filter(
          (entry) => entry.method !== 'GET' && entry.path.startsWith('/subscriptions/')
        )
      ).toEqual([])

      const plan = await session.run({ mode: 'plan', 'on-drift': 'recreate' })
      expect(plan.exitCode).toBe(0)
      expect(plan.changes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'recreate',
            resource: 'managed-private-endpoint',
            reason: expect.stringMatching(why)
          })
        ])
      )

      const repaired = await session.run({ 'on-drift': 'recreate' })
      expect(repaired.errors).toEqual([])
      expect(repaired.exitCode).toBe(0)
      expect(repaired.changes.map((change) => change.action)).toEqual(
        expect.arrayContaining(['recreated', 'approved'])
      )
      expect(repaired.outputs['connection-test']).toBe('succeeded')
      expectOnlyOurEndpointApproved(session.state())
      expect(
        connectionFrom(session.state(), ids.factoryName, ids.defaultEndpointName)?.properties
          .privateLinkServiceConnectionState.status
      ).toBe('Approved')
    },
    scenarioTimeoutMs * 2
  )
})
