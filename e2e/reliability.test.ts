// A small reliability run (issue 8) as part of the suite: 3 runs under random faults, 1 pair of
// simultaneous runs, 2 cancellations, each with a fault-free follow-up; no violation allowed.
// First, that its judgments catch what they are meant to (on made-up runs and states).
import { describe, expect, it } from '@jest/globals'
import { randomInt } from 'node:crypto'
import {
  duplicates,
  judgeEnding,
  probesLeft,
  runReliability,
  secretLeaks,
  unconverged,
  type EmulatorState,
  type Target
} from '../reliability/index.js'
import { strayedSecret, type RequestLogEntry } from '../emulator/index.js'
import type { ActionResult } from '../runner/index.js'

const serverId =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'
const target: Target = {
  factory: 'adf-demo',
  serverId,
  endpoint: 'pg-pg-demo',
  linkedService: 'PostgreSql_pg-demo_appdb',
  database: 'appdb',
  username: 'adfuser',
  integrationRuntime: 'AutoResolveIntegrationRuntime'
}
const fqdn = 'pg-demo.postgres.database.azure.com'

function result(overrides: Partial<ActionResult> = {}): ActionResult {
  return {
    exitCode: 0,
    signal: null,
    stdout: '',
    stderr: '',
    outputs: { 'connection-test': 'succeeded' },
    summary: '',
    outputFile: '',
    state: {},
    durationMs: 1_000,
    ...overrides
  }
}

const endpoint = (name: string, status = 'Approved') => ({
  name,
  properties: {
    provisioningState: 'Succeeded',
    privateLinkResourceId: serverId,
    connectionState: { status }
  }
})
const connection = (endpointName: string, status: string) => ({
  name: `${endpointName}.${status}`,
  properties: {
    privateEndpoint: { id: `/x/privateEndpoints/adf-demo.${endpointName}` },
    privateLinkServiceConnectionState: { status }
  }
})
const linkedService = (name: string, server = fqdn) => ({
  name,
  properties: {
    type: 'AzurePostgreSql',
    connectVia: { referenceName: 'AutoResolveIntegrationRuntime' },
    typeProperties: { server, database: 'appdb', username: 'adfuser' }
  }
})

/** A converged state; `change` spoils it. */
function state(change: (state: EmulatorState) => void = () => undefined): EmulatorState {
  const converged: EmulatorState = {
    factories: [
      {
        name: 'adf-demo',
        managedPrivateEndpoints: [endpoint('pg-pg-demo')],
        linkedservices: [linkedService('PostgreSql_pg-demo_appdb')],
        datasets: [],
        pipelines: []
      }
    ],
    servers: [
      {
        id: serverId,
        fullyQualifiedDomainName: fqdn,
        privateEndpointConnections: [
          connection('pg-pg-demo', 'Disconnected'),
          connection('pg-pg-demo', 'Approved')
        ]
      }
    ]
  }
  change(converged)
  return converged
}

describe('the reliability judgments', () => {
  it.each([
    ['success', result(), 'success'],
    [
      'a clear failure',
      result({ exitCode: 1, stdout: '::error::Could not approve the connection%0AFix it' }),
      'clear failure'
    ],
    ['exit 1 without ::error::', result({ exitCode: 1 }), 'crash'],
    ['a bare JavaScript error', result({ exitCode: 1, stdout: '::error::TypeError: x' }), 'crash'],
    ['exit 2', result({ exitCode: 2, stdout: '::error::Could not' }), 'crash'],
    ['a signal', result({ exitCode: null, signal: 'SIGKILL' }), 'crash'],
    ['a stack trace', result({ stderr: 'Error: x\n    at run (dist/index.js:1:2)\n' }), 'crash'],
    ['a run at its bound', result({ durationMs: 5_000 }), 'crash']
  ])('judge %s', (_, run, ending) => {
    expect(judgeEnding(run, 5_000).ending).toBe(ending)
  })

  it('find duplicates: endpoints, live connections, linked services reaching the server', () => {
    expect(duplicates(state(), target)).toEqual([])
    const spoiled = state(({ factories: [factory], servers: [server] }) => {
      factory.managedPrivateEndpoints.push(endpoint('second'))
      server.privateEndpointConnections.push(connection('second', 'Pending'))
      factory.linkedservices.push(linkedService('Copy'), linkedService('Other', 'other.example'))
    })
    expect(duplicates(spoiled, target)).toEqual([
      '2 managed private endpoints to the server: pg-pg-demo, second',
      '2 live connections from the factory: pg-pg-demo.Approved, second.Pending',
      '2 linked services reaching the server: Copy, PostgreSql_pg-demo_appdb'
    ])
  })

  it('find probes left behind', () => {
    const spoiled = state(({ factories: [factory] }) => {
      factory.datasets.push({ name: 'adf-pg-private-link-probe-1-1-abc-dataset' }, { name: 'Mine' })
      factory.linkedservices.push(linkedService('ADF-PG-PRIVATE-LINK-PROBE-ls', 'x'))
    })
    expect(probesLeft(spoiled, target)).toEqual([
      'datasets/adf-pg-private-link-probe-1-1-abc-dataset',
      'linkedservices/ADF-PG-PRIVATE-LINK-PROBE-ls'
    ])
  })

  it('tell what a follow-up did not converge on', () => {
    expect(unconverged(result(), state(), target)).toEqual([])
    const spoiled = state(({ factories: [factory], servers: [server] }) => {
      factory.managedPrivateEndpoints = [endpoint('pg-pg-demo', 'Pending')]
      server.privateEndpointConnections = [connection('pg-pg-demo', 'Pending')]
      factory.linkedservices = []
    })
    expect(
      unconverged(
        result({ exitCode: 1, outputs: { 'connection-test': 'failed' } }),
        spoiled,
        target
      )
    ).toEqual([
      'exit code 1',
      'endpoint not Approved in Data Factory',
      'connection not Approved on the server',
      'no AzurePostgreSql linked service',
      'linked service not pointing at the server, database and role',
      'linked service not on the integration runtime',
      'connection-test failed'
    ])
  })

  it('find a secret anywhere but its own ::add-mask:: line', () => {
    const secret = 'Canary-123'
    expect(secretLeaks(result({ stdout: `::add-mask::${secret}\nok` }), [], [secret])).toEqual([])
    const leaky = result({
      stdout: `::add-mask::${secret}\n::debug::${secret}`,
      stderr: secret,
      outputFile: secret,
      summary: secret
    })
    const request = { requestBody: { description: strayedSecret } } as unknown as RequestLogEntry
    expect(secretLeaks(leaky, [request], [secret])).toEqual([
      'a secret in stdout',
      'a secret in stderr',
      'a secret in GITHUB_OUTPUT',
      'a secret in summary',
      'a secret sent to Azure outside a secret field (request log)'
    ])
  })
})

it('survives random faults, a simultaneous pair and cancellations without a violation', async () => {
  const seed = Number(process.env.RELIABILITY_SEED ?? randomInt(2 ** 32))
  const report = await runReliability({ runs: 3, rate: 0.3, pairs: 1, cancels: 2, seed })
  if (report.violations.length > 0) console.log(report.table)
  // The seed replays the run: `npm run reliability -- --runs 3 --pairs 1 --cancels 2 --seed …`.
  expect({ seed, violations: report.violations }).toEqual({ seed, violations: [] })
}, 150_000)
