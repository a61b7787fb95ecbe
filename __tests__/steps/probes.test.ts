import { describe, expect, it } from '@jest/globals'
import type { StateStore } from '../../src/io.js'
import {
  createProbe,
  isProbe,
  probeCount,
  probeCreatedAt,
  probeNames,
  probeStateName,
  savedProbes,
  staleProbes,
  trackProbe
} from '../../src/steps/probes.js'
import { azureFailure, gatewayFailure } from '../fixtures/fake-azure.js'

function memoryState(initial: Record<string, string> = {}): StateStore & {
  values: Record<string, string>
} {
  const values = { ...initial }
  return {
    values,
    save: (name, value) => void (values[name] = value),
    get: (name) => values[name] ?? ''
  }
}

describe('probe names', () => {
  const created = new Date('2026-11-30T17:20:05.999Z')
  const names = probeNames(created, '4242', '3', 'c0ffee')

  it('carry their creation time (to the second) and are recognised as probes', () => {
    for (const name of Object.values(names)) {
      expect(isProbe(name)).toBe(true)
      expect(probeCreatedAt(name)).toBe(Date.parse('2026-11-30T17:20:05Z'))
    }
    expect(names.linkedService).toMatch(/-linkedservice$/)
    // Data Factory object names may not hold ':' or '.'.
    expect(Object.values(names).join('')).not.toMatch(/[:.]/)
  })

  it('have no creation time when an earlier version made them, or the time is not a date', () => {
    expect(probeCreatedAt('adf-pg-private-link-probe-4242-1-abcdef-dataset')).toBeUndefined()
    expect(
      probeCreatedAt('adf-pg-private-link-probe-20261399T999999Z-1-1-a-dataset')
    ).toBeUndefined()
    expect(probeCreatedAt('sales-20261130T172005Z')).toBeUndefined()
  })
})

describe('staleProbes', () => {
  const now = Date.parse('2026-11-30T18:00:00Z')
  const hourMs = 3_600_000
  const at = (iso: string) => probeNames(new Date(iso), '1', '1', 'aaaaaa').dataset

  it('keeps only probes older than the limit: a younger one may belong to a run still going', () => {
    const old = at('2026-11-30T16:59:59Z')
    const young = at('2026-11-30T17:30:00Z')
    const exactlyAtLimit = at('2026-11-30T17:00:00Z')
    expect(staleProbes([old, young, exactlyAtLimit], now, hourMs)).toEqual([old])
  })

  it('counts a probe without a time as stale, and never touches other objects', () => {
    const legacy = 'ADF-PG-PRIVATE-LINK-PROBE-1-1-aa-pipeline'
    expect(staleProbes([legacy, 'sales', 'nightly-20200101T000000Z'], now, hourMs)).toEqual([
      legacy
    ])
  })
})

describe('probe state for the post step', () => {
  it('lists each probe once, by kind, in the runner state', () => {
    const state = memoryState()
    trackProbe(state, 'linkedServices', 'adf-pg-private-link-probe-x-linkedservice')
    trackProbe(state, 'datasets', 'adf-pg-private-link-probe-x-dataset')
    trackProbe(state, 'datasets', 'adf-pg-private-link-probe-x-dataset')
    expect(savedProbes(state)).toEqual({
      linkedServices: ['adf-pg-private-link-probe-x-linkedservice'],
      datasets: ['adf-pg-private-link-probe-x-dataset'],
      pipelines: []
    })
    expect(probeCount(savedProbes(state))).toBe(2)
  })

  it('reads nothing from a missing or unreadable entry, and never a name that is not a probe', () => {
    expect(probeCount(savedProbes(memoryState()))).toBe(0)
    expect(probeCount(savedProbes(memoryState({ [probeStateName]: '{not json' })))).toBe(0)
    const foreign = memoryState({
      [probeStateName]: JSON.stringify({
        datasets: ['sales', 'adf-pg-private-link-probe-y-dataset']
      })
    })
    expect(savedProbes(foreign).datasets).toEqual(['adf-pg-private-link-probe-y-dataset'])
  })
})

describe('createProbe', () => {
  // As the gateway throws them: Azure's answer explained, and a request that got no answer.
  const refusal = azureFailure(409, 'ScopeLocked')
  const noAnswer = gatewayFailure(
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })
  )
  const { dataset, pipeline } = probeNames(new Date('2026-12-03T14:00:00Z'), '7', '1', 'abc123')

  it('lists the probe for the post step and as made when Azure created it', async () => {
    const state = memoryState()
    const made = { datasets: [], pipelines: [] }
    await createProbe(state, 'datasets', dataset, async () => undefined, made)
    expect(savedProbes(state).datasets).toEqual([dataset])
    expect(made.datasets).toEqual([dataset])
  })

  it('unlists it when Azure refused the write (4xx: a lock, a policy): nothing was created to delete', async () => {
    const state = memoryState()
    const made = { datasets: [], pipelines: [] }
    await expect(
      createProbe(state, 'pipelines', pipeline, () => Promise.reject(refusal), made)
    ).rejects.toBe(refusal)
    expect(savedProbes(state).pipelines).toEqual([])
    expect(made.pipelines).toEqual([])
  })

  it('keeps it listed when the write may have happened (no answer)', async () => {
    const state = memoryState()
    const made = { datasets: [], pipelines: [] }
    await expect(
      createProbe(state, 'datasets', dataset, () => Promise.reject(noAnswer), made)
    ).rejects.toBe(noAnswer)
    expect(savedProbes(state).datasets).toEqual([dataset])
    expect(made.datasets).toEqual([dataset])
  })
})
