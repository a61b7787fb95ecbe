import { describe, expect, it } from '@jest/globals'
import {
  defaultEndpointName,
  defaultLinkedServiceName,
  characterProblem,
  flexibleServerId,
  nameProblem,
  parseFlexibleServerId
} from '../src/names.js'

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
