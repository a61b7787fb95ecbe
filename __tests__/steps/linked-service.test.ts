import { describe, expect, it } from '@jest/globals'
import { readSettings } from '../../src/inputs.js'
import { createSecretMasker } from '../../src/io.js'
import {
  desiredLinkedService,
  diffLinkedService,
  fingerprintPrefix,
  fingerprintSalt,
  passwordFingerprint,
  mergeWithExisting,
  maxWriteAttempts,
  retryWrite,
  untestedReason,
  writePath,
  type LinkedServiceDecision,
  type TestConditions
} from '../../src/steps/linked-service.js'
import { reader, settingsFrom, validInputs } from '../fixtures/inputs.js'

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

describe('linked service', () => {
  const fqdn = 'pg-demo.postgres.database.azure.com'

  it('builds the v2 body over the managed runtime', () => {
    const body = desiredLinkedService(settingsFrom({ 'ssl-mode': 'verify-full' }), fqdn)
    expect(body).toEqual({
      type: 'AzurePostgreSql',
      version: '2.0',
      typeProperties: {
        server: fqdn,
        port: 5432,
        database: 'appdb',
        sslMode: 5,
        username: 'adfuser',
        authenticationType: 'BasicAuth',
        password: { type: 'SecureString', value: 'Sup3r-secret!' }
      },
      connectVia: {
        referenceName: 'AutoResolveIntegrationRuntime',
        type: 'IntegrationRuntimeReference'
      }
    })
  })

  it('references Key Vault, or stores no secret for the factory identity', () => {
    const kv = desiredLinkedService(
      settingsFrom({
        password: '',
        'password-key-vault-linked-service': 'kv',
        'password-secret-name': 'pw',
        'password-secret-version': '0123456789abcdef0123456789abcdef'
      }),
      fqdn
    )
    expect((kv.typeProperties as Record<string, unknown>).password).toEqual({
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'kv', type: 'LinkedServiceReference' },
      secretName: 'pw',
      secretVersion: '0123456789abcdef0123456789abcdef'
    })
    const identity = desiredLinkedService(
      settingsFrom({
        password: '',
        username: '',
        'linked-service-auth': 'system-assigned-identity'
      }),
      fqdn
    )
    expect(identity.typeProperties).toEqual({
      server: fqdn,
      port: 5432,
      database: 'appdb',
      sslMode: 3,
      authenticationType: 'SystemAssignedManagedIdentity'
    })
  })

  /** The linked service as Azure returns it after a write: the SecureString masked. */
  function asReturned(properties: Record<string, unknown>): unknown {
    const typeProperties = { ...(properties.typeProperties as Record<string, unknown>) }
    if (typeProperties.password)
      typeProperties.password = { type: 'SecureString', value: '**********' }
    return {
      id: '/ls',
      name: 'ls',
      properties: {
        ...properties,
        typeProperties: { ...typeProperties, port: String(typeProperties.port) }
      }
    }
  }

  it('creates when missing and finds nothing to change after its own write', () => {
    const settings = settingsFrom()
    const first = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      undefined,
      'Sup3r-secret!'
    )
    expect(diffLinkedService(undefined, first)).toEqual({ kind: 'create' })
    const again = mergeWithExisting(
      desiredLinkedService(settings, fqdn),
      asReturned(first),
      'Sup3r-secret!'
    )
    expect(diffLinkedService(asReturned(first), again)).toEqual({ kind: 'same' })
  })

  it('detects a changed password through the fingerprint, without storing the password', () => {
    const put = mergeWithExisting(
      desiredLinkedService(settingsFrom(), fqdn),
      undefined,
      'Sup3r-secret!'
    )
    // The SecureString is the one place the password may be; the fingerprint must not reveal it.
    const typeProperties = put.typeProperties as { password: { value: string } }
    expect(typeProperties.password.value).toBe('Sup3r-secret!')
    const withoutSecureString = {
      ...put,
      typeProperties: { ...typeProperties, password: { ...typeProperties.password, value: '' } }
    }
    expect(JSON.stringify(withoutSecureString)).not.toContain('Sup3r-secret!')
    expect(put.annotations).toEqual([expect.stringMatching(new RegExp(`^${fingerprintPrefix}`))])
    const [annotation] = put.annotations as string[]
    expect(annotation).toBe(passwordFingerprint('Sup3r-secret!', fingerprintSalt(annotation) ?? ''))
    const stored = asReturned(put)
    const changed = mergeWithExisting(
      desiredLinkedService(settingsFrom({ password: 'new-one' }), fqdn),
      stored,
      'new-one'
    )
    expect(diffLinkedService(stored, changed)).toEqual({ kind: 'update', fields: ['password'] })
  })

  it('salts the fingerprint', () => {
    expect(passwordFingerprint('pw', 'AAAA')).not.toBe(passwordFingerprint('pw', 'BBBB'))
    expect(passwordFingerprint('pw', 'AAAA')).toBe(passwordFingerprint('pw', 'AAAA'))
  })

  it('names each differing field, and keeps what others set', () => {
    const first = mergeWithExisting(
      desiredLinkedService(settingsFrom(), fqdn),
      undefined,
      'Sup3r-secret!'
    )
    const stored = asReturned({
      ...first,
      description: 'mine',
      annotations: [...(first.annotations as string[]), 'team-a'],
      typeProperties: { ...(first.typeProperties as object), commandTimeout: 30 }
    })
    const next = mergeWithExisting(
      desiredLinkedService(
        settingsFrom({ 'ssl-mode': 'verify-ca', port: '6432', 'integration-runtime': 'ir-2' }),
        fqdn
      ),
      stored,
      'Sup3r-secret!'
    )
    expect(diffLinkedService(stored, next)).toEqual({
      kind: 'update',
      fields: ['connectVia.referenceName', 'typeProperties.port', 'typeProperties.sslMode']
    })
    expect(next).toMatchObject({ description: 'mine', typeProperties: { commandTimeout: 30 } })
    expect(next.annotations).toEqual(expect.arrayContaining(['team-a']))
  })

  it('calls a linked service of another type a replacement', () => {
    const legacy = { properties: { type: 'PostgreSql', typeProperties: { connectionString: 'x' } } }
    expect(diffLinkedService(legacy, desiredLinkedService(settingsFrom(), fqdn))).toEqual({
      kind: 'replace',
      existingType: 'PostgreSql'
    })
  })

  it('updates the v1 connector to version 2.0', () => {
    const v1 = {
      properties: {
        type: 'AzurePostgreSql',
        version: '1.0',
        typeProperties: { connectionString: 'host=x' }
      }
    }
    const decision = diffLinkedService(
      v1,
      mergeWithExisting(desiredLinkedService(settingsFrom(), fqdn), v1, 'Sup3r-secret!')
    )
    expect(decision.kind === 'update' && decision.fields).toEqual(
      expect.arrayContaining([
        'version',
        'typeProperties.connectionString',
        'typeProperties.server'
      ])
    )
  })
})
