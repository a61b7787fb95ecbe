// The connection test's decisions: the probe pipeline, run states, activity failures and hints.
import { describe, expect, it } from '@jest/globals'
import {
  activityFailure,
  connectionTestHint,
  probePipeline,
  runState,
  testConnection
} from '../../src/steps/connection-test.js'
import type { LinkedServiceResult } from '../../src/steps/linked-service.js'
import { probeNames } from '../../src/steps/probes.js'
import { azureFailure, type GatewayOperations } from '../fixtures/fake-azure.js'
import { fakeStepContext } from '../fixtures/step-context.js'

describe('connection test decisions', () => {
  it('names temporary resources uniquely per run and attempt, with their creation time', () => {
    expect(probeNames(new Date('2026-11-30T17:20:05.123Z'), '123', '2', 'abcdef')).toEqual({
      linkedService: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-linkedservice',
      dataset: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-dataset',
      pipeline: 'adf-pg-private-link-probe-20261130T172005Z-123-2-abcdef-pipeline'
    })
  })
  it('builds one Lookup over the dataset with the test query', () => {
    expect(probePipeline('ds', 'SELECT 2').activities).toEqual([
      expect.objectContaining({
        type: 'Lookup',
        source: { type: 'AzurePostgreSqlSource', query: 'SELECT 2' },
        dataset: { referenceName: 'ds', type: 'DatasetReference' },
        firstRowOnly: true
      })
    ])
  })
  it('reads run states', () => {
    expect(
      ['Queued', 'InProgress', 'Canceling', 'Succeeded', 'Failed', 'Cancelled'].map(runState)
    ).toEqual(['running', 'running', 'running', 'succeeded', 'failed', 'failed'])
  })
  it("surfaces the failed activity's own message and a fitting hint", () => {
    const message = activityFailure([
      { status: 'Succeeded', error: { message: '' } },
      {
        status: 'Failed',
        error: { errorCode: '2200', message: 'password authentication failed for user "adfuser"' }
      }
    ] as never)
    expect(message).toBe('password authentication failed for user "adfuser" (error code 2200)')
    expect(connectionTestHint(message ?? '')).toMatch(/refused the sign-in/)
    expect(connectionTestHint('connection timed out')).toMatch(/could not reach the server/)
    expect(connectionTestHint('database "x" does not exist')).toMatch(/database does not exist/)
  })
})

describe('testConnection', () => {
  const linkedService: LinkedServiceResult = {
    name: 'PostgreSql_pg-demo_appdb',
    testThrough: 'PostgreSql_pg-demo_appdb',
    probes: probeNames(new Date('2026-01-02T03:04:05Z'), '42', '1', 'abc123')
  }
  const { dataset, pipeline } = linkedService.probes

  /** A gateway whose run reports `statuses` one look after the other; `calls` lists what was done. */
  function azureFor(statuses: string[], overrides: GatewayOperations = {}) {
    const calls: string[] = []
    const operations: GatewayOperations = {
      writeDataset: async (name, body) => {
        calls.push(
          `write dataset ${name} through ${body.properties.linkedServiceName.referenceName}`
        )
      },
      writePipeline: async (name) => void calls.push(`write pipeline ${name}`),
      runPipeline: async (name) => {
        calls.push(`run ${name}`)
        return 'run-1'
      },
      readPipelineRun: async (runId) => {
        calls.push(`read ${runId}`)
        return { status: statuses.shift() ?? 'InProgress', message: 'the run ended' }
      },
      queryActivityRuns: async () => ({
        value: [
          {
            status: 'Failed',
            error: {
              message: 'password authentication failed for user "adfuser"',
              errorCode: '2200'
            }
          }
        ]
      }),
      deletePipeline: async (name) => void calls.push(`delete ${name}`),
      deleteDataset: async (name) => void calls.push(`delete ${name}`),
      ...overrides
    }
    return { operations, calls }
  }

  it('writes the probes, runs the Lookup until it succeeds, then removes the probes (pipeline first)', async () => {
    const { operations, calls } = azureFor(['Queued', 'InProgress', 'Succeeded'])
    const { context, recorded } = fakeStepContext(operations)
    const outcome = await testConnection(context, linkedService, { endpointApproved: true })
    expect(outcome.done).toBe('succeeded (run run-1)')
    expect(calls).toEqual([
      `write dataset ${dataset} through PostgreSql_pg-demo_appdb`,
      `write pipeline ${pipeline}`,
      `run ${pipeline}`,
      'read run-1',
      'read run-1',
      'read run-1',
      `delete ${pipeline}`,
      `delete ${dataset}`
    ])
    expect(recorded.outputs).toMatchObject({
      'connection-test': 'succeeded',
      'connection-test-run-id': 'run-1'
    })
  })

  it("fails with the activity's own words, naming the run by its ARM id, and still removes the probes", async () => {
    const { operations, calls } = azureFor(['Failed'])
    const { context, recorded } = fakeStepContext(operations)
    const failure = await testConnection(context, linkedService, { endpointApproved: true }).catch(
      (error: unknown) => error
    )
    expect(failure).toMatchObject({
      message:
        'The connection test failed: password authentication failed for user "adfuser" (error code 2200)',
      resource: context.azure.ids.factoryChild('pipelineruns', 'run-1')
    })
    expect(calls.slice(-2)).toEqual([`delete ${pipeline}`, `delete ${dataset}`])
    expect(recorded.outputs['connection-test']).toBe('failed')
  })

  it('skips without a request when the endpoint is not approved', async () => {
    const { context, recorded } = fakeStepContext({})
    const outcome = await testConnection(context, linkedService, { endpointApproved: false })
    expect(outcome.done).toBe('skipped')
    expect(outcome.found).toMatch(/not approved/)
    expect(recorded.outputs['connection-test']).toBeUndefined()
  })

  it('cancels a run that outlives test-timeout; a refused cancel only warns', async () => {
    const { operations, calls } = azureFor([], {
      cancelPipelineRun: async (runId) => {
        calls.push(`cancel ${runId}`)
        throw azureFailure(403, 'AuthorizationFailed')
      }
    })
    const { context, recorded } = fakeStepContext(operations, {
      inputs: { 'test-timeout': '1m' },
      tickMs: 10_000
    })
    await expect(
      testConnection(context, linkedService, { endpointApproved: true })
    ).rejects.toThrow(/Timed out .*the connection test run run-1 to finish/)
    expect(calls).toContain('cancel run-1')
    expect(recorded.warnings.join('\n')).toContain(
      'It may still run; cancel it in Data Factory Studio'
    )
  })
})
