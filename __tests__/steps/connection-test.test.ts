// The connection test's decisions: the probe pipeline, run states, activity failures and hints.
import { describe, expect, it } from '@jest/globals'
import {
  activityFailure,
  connectionTestHint,
  probePipeline,
  runState
} from '../../src/steps/connection-test.js'
import { probeNames } from '../../src/steps/probes.js'

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
