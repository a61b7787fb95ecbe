import { describe, expect, it } from '@jest/globals'
import { readSettings } from '../../src/inputs.js'
import { createSecretMasker } from '../../src/io.js'
import {
  desiredLinkedService,
  diffLinkedService,
  mergeWithExisting,
  maxWriteAttempts,
  retryWrite,
  untestedReason,
  writePath,
  type LinkedServiceDecision,
  type TestConditions
} from '../../src/steps/linked-service.js'
import { reader, validInputs } from '../fixtures/inputs.js'

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

describe('encryptedCredential never travels', () => {
  const settings = readSettings(
    reader(validInputs),
    createSecretMasker(() => undefined)
  )
  const fqdn = 'pg-demo.postgres.database.azure.com'
  /** An existing linked service as Data Factory answers it: secret masked, encryptedCredential added. */
  const stored = (password: { type: string; value: string }) => {
    const desired = mergeWithExisting(desiredLinkedService(settings, fqdn), undefined, 'older')
    return {
      properties: {
        ...desired,
        typeProperties: {
          ...(desired.typeProperties as object),
          password,
          encryptedCredential: 'ew0KICAiVmVyc2lvbiI6ICIyMDE3LTExLTMwIg0KfQ=='
        }
      }
    }
  }

  it('is dropped from what is written over a linked service that has one, with a changed password', () => {
    const existing = stored({ type: 'SecureString', value: '**********' })
    const desired = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      existing,
      'a-new-password'
    )
    expect(desired.typeProperties).not.toHaveProperty('encryptedCredential')
    expect(diffLinkedService(existing, desired)).toEqual({ kind: 'update', fields: ['password'] })
  })

  it('is no difference in plan: the same password over a stored encryptedCredential is up to date', () => {
    const password = 'the-same-password'
    const first = mergeWithExisting(desiredLinkedService(settings, fqdn), undefined, password)
    const existing = {
      properties: {
        ...first,
        typeProperties: {
          ...(first.typeProperties as object),
          password: { type: 'SecureString', value: '**********' },
          encryptedCredential: 'ew0KIC=='
        }
      }
    }
    const again = mergeWithExisting(desiredLinkedService(settings, fqdn), existing, password)
    expect(diffLinkedService(existing, again)).toEqual({ kind: 'same' })
  })
})

describe("the server's creation time annotation", () => {
  const settings = readSettings(
    reader(validInputs),
    createSecretMasker(() => undefined)
  )
  const fqdn = 'pg-demo.postgres.database.azure.com'
  const created = '2026-04-16T21:25:05.481Z'

  it('is no drift on a linked service written before it was kept (no write only to record it)', () => {
    const password = 'the-same-password'
    const earlier = mergeWithExisting(desiredLinkedService(settings, fqdn), undefined, password)
    const existing = { properties: earlier }
    const desired = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      existing,
      password,
      created
    )
    expect(diffLinkedService(existing, desired)).toEqual({ kind: 'same' })
  })

  it('is a difference once recorded, when the server was created again', () => {
    const password = 'the-same-password'
    const recorded = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      undefined,
      password,
      created
    )
    const existing = { properties: recorded }
    const again = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      existing,
      password,
      '2026-12-01T08:00:00.000Z'
    )
    expect(diffLinkedService(existing, again)).toEqual({
      kind: 'update',
      fields: ['server-created']
    })
    const same = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      existing,
      password,
      created
    )
    expect(diffLinkedService(existing, same)).toEqual({ kind: 'same' })
  })
})
