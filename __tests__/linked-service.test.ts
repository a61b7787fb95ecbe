import { describe, expect, it } from '@jest/globals'
import {
  maxWriteAttempts,
  retryWrite,
  untestedReason,
  writePath,
  type LinkedServiceDecision,
  type TestConditions
} from '../src/steps/linked-service.js'

const tested: TestConditions = { mode: 'apply', testEnabled: true, endpointApproved: true }
const changes: LinkedServiceDecision[] = [
  { kind: 'create' },
  { kind: 'update', fields: ['typeProperties.username'] },
  { kind: 'replace', existingType: 'AzureSqlDatabase' }
]

describe('writePath', () => {
  it('stages every change for the connection test when one will run', () => {
    for (const decision of changes) expect(writePath(decision, tested)).toBe('stage')
  })

  it('writes directly, untested, when no test will run', () => {
    for (const decision of changes) {
      expect(writePath(decision, { ...tested, testEnabled: false })).toBe('direct')
      expect(writePath(decision, { ...tested, endpointApproved: false })).toBe('direct')
    }
  })

  it('writes nothing in plan mode or when nothing changes (the test then runs through the real one)', () => {
    for (const decision of changes)
      expect(writePath(decision, { ...tested, mode: 'plan' })).toBe('plan')
    expect(writePath({ kind: 'same' }, tested)).toBe('none')
    expect(writePath({ kind: 'same' }, { ...tested, testEnabled: false })).toBe('none')
  })
})

describe('untestedReason', () => {
  it('names why no test runs, and nothing when one does', () => {
    expect(untestedReason(tested)).toBeUndefined()
    expect(untestedReason({ ...tested, testEnabled: false })).toBe('test-connection is false')
    expect(untestedReason({ ...tested, mode: 'plan' })).toBe('plan mode runs no pipeline')
    expect(untestedReason({ ...tested, endpointApproved: false })).toMatch(/not approved/)
  })
})

describe('retryWrite', () => {
  const restError = (statusCode: number) =>
    Object.assign(new Error('failed'), { name: 'RestError', statusCode })

  it('retries only a failed If-Match precondition (412), also when wrapped', () => {
    expect(retryWrite(restError(412), 1)).toBe(true)
    expect(retryWrite(new Error('wrapped', { cause: restError(412) }), 1)).toBe(true)
    expect(retryWrite(restError(409), 1)).toBe(false)
    expect(retryWrite(restError(500), 1)).toBe(false)
    expect(retryWrite(new Error('no status'), 1)).toBe(false)
  })

  it('gives up after the bounded number of attempts', () => {
    expect(retryWrite(restError(412), maxWriteAttempts - 1)).toBe(true)
    expect(retryWrite(restError(412), maxWriteAttempts)).toBe(false)
  })
})
