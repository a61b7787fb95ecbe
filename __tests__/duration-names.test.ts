import { describe, expect, it } from '@jest/globals'
import { formatDuration, parseDuration } from '../src/duration.js'
import {
  defaultEndpointName,
  defaultLinkedServiceName,
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
      name: 'n'
    })
    expect(
      parseFlexibleServerId(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/servers/n'
      )
    ).toBeUndefined()
  })
})
