// Fault injection for load tests: a write done but its answer lost, seeded random faults of several
// kinds, and a request log that shows a secret sent where it does not belong.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { DataFactoryManagementClient, type LinkedServiceResource } from '@azure/arm-datafactory'
import { ClientSecretCredential } from '@azure/identity'
import { FaultInjector, type FaultKind } from '../src/admin.js'
import {
  basicIds,
  basicScenario,
  seededRandom,
  startEmulator,
  strayedSecret,
  type RunningEmulator
} from '../index.js'

let emulator: RunningEmulator

beforeAll(async () => {
  emulator = await startEmulator({ scenario: basicScenario(), postgres: false })
})

afterAll(async () => {
  await emulator?.stop()
})

beforeEach(async () => {
  await emulator.admin.reset()
})

/** A Data Factory client as the action builds one; `maxRetries: 0` shows what one attempt sees. */
function factoryClient(maxRetries?: number): DataFactoryManagementClient {
  const principal = emulator.principals[0]
  const credential = new ClientSecretCredential(
    emulator.tenantId,
    principal.clientId,
    principal.clientSecret ?? '',
    {
      authorityHost: emulator.url,
      disableInstanceDiscovery: true,
      tlsOptions: { ca: emulator.caPem }
    }
  )
  return new DataFactoryManagementClient(credential, basicIds.subscriptionId, {
    endpoint: emulator.url,
    tlsOptions: { ca: emulator.caPem },
    ...(maxRetries === undefined ? {} : { retryOptions: { maxRetries } })
  })
}

const linkedService: LinkedServiceResource = {
  properties: {
    type: 'AzurePostgreSql',
    typeProperties: { server: 'pg-demo.postgres.database.azure.com', database: 'appdb' }
  }
}

const { resourceGroup, factoryName } = basicIds

describe("'drop-after-write'", () => {
  it('does the write, then resets the connection without an answer', async () => {
    const client = factoryClient(0)
    await client.factories.get(resourceGroup, factoryName) // sign in before the fault
    emulator.admin.injectFault({ kind: 'drop-after-write', path: '/linkedservices/' })
    await expect(
      client.linkedServices.createOrUpdate(resourceGroup, factoryName, 'Dropped', linkedService)
    ).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|socket hang up/i) })
    const stored = await client.linkedServices.get(resourceGroup, factoryName, 'Dropped')
    expect(stored.name).toBe('Dropped')
    const put = emulator.admin.requestLog().find((entry) => entry.method === 'PUT')
    expect(put).toMatchObject({ status: 0, fault: 'drop-after-write' })
  })

  it('passes reads by, staying armed for the next write', async () => {
    const client = factoryClient(0)
    emulator.admin.injectFault({ kind: 'drop-after-write', path: '/linkedservices' })
    await client.linkedServices.listByFactory(resourceGroup, factoryName).next()
    expect(emulator.admin.faults()).toMatchObject([{ kind: 'drop-after-write', hits: 0 }])
    await expect(
      client.linkedServices.createOrUpdate(resourceGroup, factoryName, 'Later', linkedService)
    ).rejects.toThrow()
    expect(emulator.admin.faults()).toEqual([])
  })

  it('is survived by the SDK retrying an idempotent PUT', async () => {
    const client = factoryClient()
    await client.factories.get(resourceGroup, factoryName)
    emulator.admin.injectFault({ kind: 'drop-after-write', path: '/linkedservices/' })
    const stored = await client.linkedServices.createOrUpdate(
      resourceGroup,
      factoryName,
      'Retried',
      linkedService
    )
    expect(stored.name).toBe('Retried')
    const puts = emulator.admin.requestLog().filter((entry) => entry.method === 'PUT')
    expect(puts.map((entry) => [entry.status, entry.fault])).toEqual([
      [0, 'drop-after-write'],
      [200, undefined]
    ])
  })
})

describe('seeded random faults', () => {
  const kinds: FaultKind[] = ['throttle', 'server-error', 'drop-after-write', 'delay']

  /** Which of `requests` matching requests get which fault, from a fresh injector. */
  function draw(seed: number, method: string, requests = 2000): (FaultKind | undefined)[] {
    const injector = new FaultInjector()
    injector.add({ kind: kinds, path: '^/subscriptions/', rate: 0.3, seed })
    return Array.from({ length: requests }, () => injector.take(method, '/subscriptions/x')?.kind)
  }

  it('hit each request with probability `rate`, the same way for the same seed', () => {
    const first = draw(7, 'PUT')
    expect(draw(7, 'PUT')).toEqual(first)
    expect(draw(8, 'PUT')).not.toEqual(first)
    const hits = first.filter((kind) => kind !== undefined).length / first.length
    expect(hits).toBeGreaterThan(0.25)
    expect(hits).toBeLessThan(0.35)
  })

  it('draw each hit among the kinds that apply to the request', () => {
    expect(new Set(draw(7, 'PUT'))).toEqual(new Set([...kinds, undefined]))
    expect(new Set(draw(7, 'GET'))).toEqual(
      new Set(['throttle', 'server-error', 'delay', undefined])
    )
  })

  it('refuse an empty list of kinds', () => {
    expect(() => new FaultInjector().add({ kind: [], path: '.' })).toThrow(/at least one/)
  })

  it('come from a PRNG that replays from its seed', () => {
    const numbers = (seed: number) => Array.from({ length: 5 }, seededRandom(seed))
    expect(numbers(42)).toEqual(numbers(42))
    expect(numbers(42)).not.toEqual(numbers(43))
    expect(numbers(42).every((value) => value >= 0 && value < 1)).toBe(true)
  })
})

describe('the request log', () => {
  it('marks a scenario secret sent outside a secret field, and hides it in one', async () => {
    const password = basicScenario().servers[0].roles[0].password
    await factoryClient().linkedServices.createOrUpdate(resourceGroup, factoryName, 'Leaky', {
      properties: {
        type: 'AzurePostgreSql',
        description: `made with ${password}`,
        typeProperties: { password: { type: 'SecureString', value: password } }
      }
    })
    const put = emulator.admin.requestLog().find((entry) => entry.method === 'PUT')
    expect(put?.requestBody).toMatchObject({
      properties: {
        description: `made with ${strayedSecret}`,
        typeProperties: { password: { type: 'SecureString', value: '***' } }
      }
    })
    expect(JSON.stringify(emulator.admin.requestLog())).not.toContain(password)
  })
})
