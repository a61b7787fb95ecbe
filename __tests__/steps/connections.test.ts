// The connection matching (which server-side connection is this endpoint's) and the reads of it.
import { describe, expect, it } from '@jest/globals'
import {
  listConnections,
  matchConnection,
  observeMatch,
  toConnectionView
} from '../../src/steps/connections.js'
import { connection, peBase } from '../fixtures/connections.js'
import { azureFailure } from '../fixtures/fake-azure.js'
import { fakeStepContext } from '../fixtures/step-context.js'

describe('matchConnection', () => {
  const byName = { factoryName: 'adf-demo', endpointName: 'pg-pg-demo', privateEndpointId: '' }
  it("matches <factory>.<endpoint> case-insensitively and never another factory's endpoint of the same name", () => {
    const mine = connection(`${peBase}ADF-Demo.pg-pg-demo`)
    const foreign = connection(`${peBase}adf-analytics.pg-pg-demo`)
    expect(matchConnection([foreign, mine], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: mine
    })
    expect(matchConnection([foreign], byName, false)).toEqual({ basis: 'name', kind: 'none' })
    expect(matchConnection([connection(`${peBase}xadf-demo.pg-pg-demo`)], byName, false)).toEqual({
      basis: 'name',
      kind: 'none'
    })
  })
  it('lets no Disconnected leftover hide a live connection, and ignores it for a new endpoint', () => {
    const leftover = connection(`${peBase}adf-demo.pg-pg-demo`, 'Disconnected')
    const fresh = connection(`${peBase}adf-demo.pg-pg-demo`)
    expect(matchConnection([leftover, fresh], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: fresh
    })
    expect(matchConnection([leftover], byName, true)).toEqual({ basis: 'name', kind: 'none' })
    expect(matchConnection([leftover], byName, false)).toEqual({
      basis: 'name',
      kind: 'one',
      connection: leftover
    })
  })
  it('reports every match when more than one', () => {
    const a = connection(`${peBase}adf-demo.pg-pg-demo`)
    const b = connection(
      `/subscriptions/other/resourceGroups/r/providers/Microsoft.Network/privateEndpoints/adf-demo.pg-pg-demo`
    )
    expect(matchConnection([a, b], byName, false)).toEqual({
      basis: 'name',
      kind: 'many',
      connections: [a, b]
    })
  })
  it("with the endpoint's properties.resourceId, matches that private endpoint (case-insensitively), whatever its name", () => {
    const stated = `${peBase}pg-pg-demo.adf-demo`
    const mine = connection(stated)
    const namedLikeUs = connection(`${peBase}adf-demo.pg-pg-demo`)
    const identity = { ...byName, privateEndpointId: stated.toLowerCase() }
    expect(matchConnection([namedLikeUs, mine], identity, false)).toEqual({
      basis: 'resourceId',
      kind: 'one',
      connection: mine
    })
    expect(matchConnection([namedLikeUs], identity, false)).toEqual({
      basis: 'resourceId',
      kind: 'none'
    })
  })
  it('by resourceId too, a Disconnected leftover never hides a live connection', () => {
    const stated = `${peBase}adf-demo.pg-pg-demo`
    const leftover = connection(stated, 'Disconnected')
    const fresh = connection(stated)
    const identity = { ...byName, privateEndpointId: stated }
    expect(matchConnection([leftover, fresh], identity, false)).toMatchObject({
      kind: 'one',
      connection: fresh
    })
    expect(matchConnection([leftover], identity, true)).toMatchObject({ kind: 'none' })
  })
})

describe('reading the connections', () => {
  const listed = (name: string, privateEndpointId: string, status: string) => ({
    name,
    id: `/c/${name}`,
    privateEndpoint: { id: privateEndpointId },
    privateLinkServiceConnectionState: { status, description: `${status} by someone` },
    provisioningState: 'Succeeded'
  })
  const ours = { name: 'pg-pg-demo', privateEndpointId: '', isNew: false }

  it('views each connection by the fields the action reads, empty where Azure states none', async () => {
    const { context } = fakeStepContext({
      listConnections: async () => [listed('a', `${peBase}adf-demo.pg-pg-demo`, 'Approved'), {}]
    })
    await expect(listConnections(context)).resolves.toEqual([
      {
        name: 'a',
        id: '/c/a',
        privateEndpointId: `${peBase}adf-demo.pg-pg-demo`,
        status: 'Approved',
        description: 'Approved by someone',
        provisioningState: 'Succeeded'
      },
      toConnectionView({})
    ])
    expect(toConnectionView({})).toEqual({
      name: '',
      id: '',
      privateEndpointId: '',
      status: '',
      description: '',
      provisioningState: ''
    })
  })

  it("finds this factory's connection among others", async () => {
    const { context } = fakeStepContext({
      listConnections: async () => [
        listed('other', `${peBase}adf-other.pg-pg-demo`, 'Approved'),
        listed('mine', `${peBase}adf-demo.pg-pg-demo`, 'Pending')
      ]
    })
    await expect(observeMatch(context, ours)).resolves.toMatchObject({ name: 'mine' })
  })

  it("refuses two connections that both match, naming the server's id and how to clean up", async () => {
    const { context } = fakeStepContext({
      listConnections: async () => [
        listed('one', `${peBase}adf-demo.pg-pg-demo`, 'Pending'),
        listed('two', `${peBase}adf-demo.pg-pg-demo`, 'Approved')
      ]
    })
    await expect(observeMatch(context, ours)).rejects.toMatchObject({
      message: expect.stringMatching(
        /^More than one private endpoint connection on server 'pg-demo'/
      ),
      resource: context.settings.server.id,
      hint: expect.stringContaining('Delete the stale connections')
    })
  })

  it("passes the gateway's failure on as it is", async () => {
    const refused = azureFailure(403, 'AuthorizationFailed')
    const { context } = fakeStepContext({
      listConnections: async () => {
        throw refused
      }
    })
    await expect(listConnections(context)).rejects.toBe(refused)
  })
})
