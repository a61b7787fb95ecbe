import { describe, expect, it } from '@jest/globals'
import { durationProblem, formatDuration, maxDurationMs, parseDuration } from '../src/duration.js'
import {
  defaultEndpointName,
  defaultLinkedServiceName,
  characterProblem,
  flexibleServerId,
  nameProblem,
  parseFlexibleServerId
} from '../src/names.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['30', 30_000],
    ['1.5m', 90_000],
    [' 2M ', 120_000]
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', '0', '-5s', '10 minutes', 'ms', '5d'])('refuses %p', (text) =>
    expect(parseDuration(text)).toBeUndefined()
  )

  it('bounds durations by the longest job (5 days), which Node timers can also hold', () => {
    expect(maxDurationMs).toBe(432_000_000)
    expect(maxDurationMs).toBeLessThan(2 ** 31 - 1)
    expect(durationProblem('120h')).toBeUndefined()
    expect(durationProblem('120.001h')).toMatch(/at most 5 days \(120h\)/)
    expect(durationProblem('99999999h')).toMatch(/at most 5 days/)
    expect(durationProblem('soon')).toMatch(/such as 500ms, 10s/)
  })

  it('formats for people', () => {
    expect(formatDuration(750)).toBe('750ms')
    expect(formatDuration(125_000)).toBe('2m 5s')
    expect(formatDuration(3_723_000)).toBe('1h 2m 3s')
  })
})

describe('names', () => {
  it('derives an endpoint name valid under the endpoint rule', () => {
    expect(defaultEndpointName('pg-demo')).toBe('pg-pg-demo')
    const long = defaultEndpointName('a'.repeat(61) + '-b')
    expect(nameProblem('managedPrivateEndpoint', long)).toBeUndefined()
    expect(long.length).toBeLessThanOrEqual(80)
  })

  it('derives a linked service name without characters Data Factory refuses', () => {
    const name = defaultLinkedServiceName('pg-demo', 'my.db/2')
    expect(name).toBe('PostgreSql_pg-demo_my_db_2')
    expect(nameProblem('linkedService', name)).toBeUndefined()
  })

  it('applies the server rule', () => {
    expect(nameProblem('server', 'pg-demo')).toBeUndefined()
    expect(nameProblem('server', 'pg')).toMatch(/3–63 characters long \(it has 2\)/)
    expect(nameProblem('server', 'Upper-case')).toMatch(/lowercase/)
  })

  it('parses only flexible server ids, case-insensitively on the provider', () => {
    expect(
      parseFlexibleServerId(
        '/subscriptions/s/resourceGroups/g/providers/microsoft.dbforpostgresql/flexibleservers/n'
      )
    ).toEqual({
      subscriptionId: 's',
      resourceGroup: 'g',
      name: 'n',
      child: undefined
    })
    expect(
      parseFlexibleServerId(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/servers/n'
      )
    ).toBeUndefined()
  })

  it('describes a GUID as a GUID, never by its length', () => {
    expect(nameProblem('guid', 'nope')).toBe(
      'must be a GUID such as 00000000-0000-0000-0000-000000000000'
    )
    expect(nameProblem('guid', '{3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c}')).toMatch(
      /; use '3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c'$/
    )
    expect(nameProblem('tenant', 'contoso.onmicrosoft.com')).toBeUndefined()
    expect(nameProblem('tenant', 'organizations')).toMatch(
      /tenant id \(a GUID\) or one of its domains/
    )
  })

  it('guesses the fix for a server host name, a resource id and capitals', () => {
    expect(nameProblem('server', 'pg-demo.postgres.database.azure.com')).toMatch(
      /host name: use 'pg-demo'$/
    )
    expect(
      nameProblem('server', 'https://pg-demo.postgres.database.chinacloudapi.cn:5432/')
    ).toMatch(/use 'pg-demo'$/)
    expect(nameProblem('server', '/subscriptions/s/resourceGroups/g/providers/x/y/pg')).toMatch(
      /give it as 'server-id' instead$/
    )
    expect(nameProblem('server', 'Pg-Demo')).toMatch(/lowercase: use 'pg-demo'$/)
  })

  it('checks Key Vault secret names and versions, with the fix from a secret id', () => {
    expect(nameProblem('keyVaultSecret', 'pg-password')).toBeUndefined()
    expect(nameProblem('keyVaultSecret', '../pg-password')).toMatch(/use 'pg-password'$/)
    expect(
      nameProblem(
        'keyVaultSecret',
        'https://kv.vault.azure.net/secrets/pg/0123456789abcdef0123456789abcdef'
      )
    ).toMatch(/use 'pg' and give '0123456789abcdef0123456789abcdef' as the secret's version$/)
    expect(nameProblem('keyVaultSecretVersion', '0123456789ABCDEF0123456789abcdef')).toBeUndefined()
    expect(nameProblem('keyVaultSecretVersion', 'latest')).toMatch(/32 hexadecimal digits/)
  })

  it('counts PostgreSQL names in bytes and allows any visible character', () => {
    expect(nameProblem('database', 'my db/../x?#')).toBeUndefined()
    expect(nameProblem('database', 'é'.repeat(32))).toMatch(
      /1–63 bytes \(UTF-8\) long \(it has 64\)/
    )
  })

  it('names invisible and non-ASCII characters, escaped', () => {
    expect(characterProblem('a\nb')).toBe("contains '\\n', a line break: remove it")
    expect(characterProblem('a\u200bb')).toBe(
      "contains '\\u200b', an invisible character: remove it"
    )
    expect(characterProblem('pg-dеmo')).toMatch(/contains 'е' \(\\u0435\), which is not ASCII/)
    expect(characterProblem('pg-dеmo', true)).toBeUndefined()
  })

  it('parses a server id, telling a child resource apart, and builds it back', () => {
    const id =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/n'
    expect(parseFlexibleServerId(`${id}/databases/d`)).toMatchObject({
      name: 'n',
      child: '/databases/d'
    })
    expect(parseFlexibleServerId(`${id}/`)).toEqual({
      subscriptionId: 's',
      resourceGroup: 'g',
      name: 'n',
      child: undefined
    })
    expect(flexibleServerId({ subscriptionId: 's', resourceGroup: 'g', name: 'n' })).toBe(id)
  })
})
