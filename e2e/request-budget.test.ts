// Issue 11: the request budget of each path (docs/behaviour.md "Request budget"), counted from the emulator's
// request log. Counts only, never times: each request is named by why it is sent, and a path may
// send no other and no more. The scenario's delays (tens of ms) end within the first pause of a
// wait (poll-interval 200ms, so 100 ms), so every wait takes exactly one look.
import { describe, expect, test } from '@jest/globals'
import type { RequestLogEntry } from '../emulator/index.js'
import {
  describeRequests,
  e2eScenario,
  scenarioTimeoutMs,
  useEmulator,
  type E2eRun
} from './harness.js'

const session = useEmulator(e2eScenario())

const reasons: [RegExp, string][] = [
  [/^GET \/github-oidc\//, 'sign-in: GitHub ID token'],
  [/^GET .*\/\.well-known\//, 'sign-in: Entra ID metadata'],
  [/^POST .*\/oauth2\//, 'sign-in: token exchange'],
  [/^GET .*\/flexibleServers\/[^/]+$/, 'GET server'],
  [/^GET .*\/flexibleServers\/[^/]+\/privateLinkResources$/, 'GET server Private Link groups'],
  [/^GET .*\/integrationRuntimes\/[^/]+$/, 'GET runtime'],
  [/^GET .*\/integrationRuntimes$/, 'GET runtime list'],
  [/^GET .*\/factories\/[^/]+$/, 'GET factory'],
  [/^GET .*\/managedVirtualNetworks$/, 'GET managed VNet list'],
  [/^GET .*\/managedPrivateEndpoints$/, 'GET endpoint list'],
  [/^(PUT|DELETE) .*\/managedPrivateEndpoints\/[^/]+$/, '$1 endpoint'],
  [/^GET .*\/privateEndpointConnections$/, 'GET connection list'],
  [/^(GET|PUT) .*\/privateEndpointConnections\/[^/]+$/, '$1 connection'],
  [/^GET .*\/(azureAsyncOperation|operationResults)\//, 'GET approval operation'],
  [
    /^(PUT|DELETE) .*\/linkedservices\/adf-pg-private-link-probe-[^/]+$/,
    '$1 staged linked service'
  ],
  [/^(GET|PUT|DELETE) .*\/linkedservices\/[^/]+$/, '$1 linked service'],
  [/^GET .*\/pipelines$/, 'GET pipelines list'],
  [/^GET .*\/datasets$/, 'GET datasets list'],
  [/^GET .*\/linkedservices$/, 'GET linked services list'],
  [/^(PUT|DELETE) .*\/(datasets|pipelines)\/[^/]+$/, '$1 probe $2'],
  [/^POST .*\/createRun$/, 'POST createRun'],
  [/^GET .*\/pipelineruns\/[^/]+$/, 'GET pipeline run']
]

/** Why each request was sent, counted: `{ 'GET server': 1, … }`. */
function budgetOf(requests: RequestLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const entry of requests) {
    const line = `${entry.method} ${entry.path}`
    const rule = reasons.find(([pattern]) => pattern.test(line))
    const match = rule?.[0].exec(line)
    const reason =
      rule && match ? rule[1].replace(/\$(\d)/g, (_, group: string) => match[Number(group)]) : line
    counts[reason] = (counts[reason] ?? 0) + 1
  }
  return counts
}

function armReads(requests: RequestLogEntry[]): number {
  return requests.filter(
    (entry) => entry.method === 'GET' && entry.path.startsWith('/subscriptions/')
  ).length
}

function expectBudget(run: E2eRun, expected: Record<string, number>): void {
  expect(run.exitCode).toBe(0)
  const actual = budgetOf(run.requests)
  if (JSON.stringify(sorted(actual)) !== JSON.stringify(sorted(expected)))
    console.log(describeRequests(run.requests).join('\n'))
  expect(sorted(actual)).toEqual(sorted(expected))
}

function sorted(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)))
}

/** One GitHub ID token, one metadata document, one token exchange: the same as the Azure CLI's login. */
const signIn = {
  'sign-in: GitHub ID token': 1,
  'sign-in: Entra ID metadata': 1,
  'sign-in: token exchange': 1
}

/**
 * What every apply and plan reads first: preflight's three reads, sent at once (issue 14 added the
 * server's Private Link groups, so a server that offers no 'postgresqlServer' is refused before any
 * write), and the endpoint list.
 */
const firstLooks = {
  'GET server': 1,
  'GET server Private Link groups': 1,
  'GET runtime': 1,
  'GET endpoint list': 1
}

/** The sweep of earlier runs' connection-test leftovers, before a connection test. */
const sweep = { 'GET pipelines list': 1, 'GET datasets list': 1, 'GET linked services list': 1 }

describe('request budget per path', () => {
  test(
    'fresh apply: no read repeats what an answer just said, and each wait takes one look',
    async () => {
      const run = await session.run()
      expectBudget(run, {
        ...signIn,
        ...firstLooks,
        ...sweep,
        'PUT endpoint': 1,
        // One look after the PUT answered Provisioning (none at once).
        'GET endpoint list': 3,
        // The endpoint is new: one list after it is provisioned finds its connection.
        'GET connection list': 1,
        'PUT connection': 1,
        // The SDK's beginUpdate polls once right after the 202 (generated code); ours follows
        // after the pause (or the Retry-After) and finds it done.
        'GET approval operation': 2,
        // The SDK's final GET of the approved connection (core-lro, PUT: the original URI).
        'GET connection': 1,
        'GET linked service': 1,
        'PUT staged linked service': 1,
        'PUT probe datasets': 1,
        'PUT probe pipelines': 1,
        'POST createRun': 1,
        // One look after a pause: none right after createRun.
        'GET pipeline run': 1,
        'DELETE probe pipelines': 1,
        'DELETE probe datasets': 1,
        'DELETE staged linked service': 1,
        'PUT linked service': 1,
        // Something was written: is the factory Git-integrated (a release may delete it)?
        'GET factory': 1
      })
      // The run starts only after Data Factory was seen to show Approved (its last endpoint list).
      const lines = run.requests.map((entry) => `${entry.method} ${entry.path}`)
      const lastEndpointList = lines.findLastIndex((line) =>
        /^GET .*\/managedPrivateEndpoints$/.test(line)
      )
      expect(lastEndpointList).toBeLessThan(lines.findIndex((line) => line.endsWith('/createRun')))
    },
    scenarioTimeoutMs
  )

  test(
    're-run with nothing to do and no connection test: 5 Resource Manager reads',
    async () => {
      const run = await session.run({ 'test-connection': 'false' })
      expectBudget(run, { ...signIn, ...firstLooks, 'GET linked service': 1 })
      expect(armReads(run.requests)).toBeLessThanOrEqual(5)
    },
    scenarioTimeoutMs
  )

  test(
    're-run with the connection test: the reads of a no-op, the sweep, and the test',
    async () => {
      const run = await session.run()
      expectBudget(run, {
        ...signIn,
        ...firstLooks,
        ...sweep,
        'GET linked service': 1,
        'PUT probe datasets': 1,
        'PUT probe pipelines': 1,
        'POST createRun': 1,
        'GET pipeline run': 1,
        'DELETE probe pipelines': 1,
        'DELETE probe datasets': 1
      })
    },
    scenarioTimeoutMs
  )

  test(
    'plan of a finished setup: the no-op reads only',
    async () => {
      const run = await session.run({ mode: 'plan' })
      expectBudget(run, { ...signIn, ...firstLooks, 'GET linked service': 1 })
    },
    scenarioTimeoutMs
  )

  test(
    'check of a finished setup: the no-op reads and the connection test (no sweep, no GitHub call without a token)',
    async () => {
      const run = await session.run({ mode: 'check', 'github-token': '' })
      expectBudget(run, {
        ...signIn,
        ...firstLooks,
        'GET linked service': 1,
        'PUT probe datasets': 1,
        'PUT probe pipelines': 1,
        'POST createRun': 1,
        'GET pipeline run': 1,
        'DELETE probe pipelines': 1,
        'DELETE probe datasets': 1
      })
    },
    scenarioTimeoutMs
  )

  test(
    'destroy: the sweep, the teardown reads and its deletes',
    async () => {
      const run = await session.run({ mode: 'destroy' })
      expectBudget(run, {
        ...signIn,
        ...sweep,
        'GET linked service': 1,
        'GET datasets list': 2,
        'GET pipelines list': 2,
        'GET endpoint list': 3,
        'GET server': 1,
        'GET linked services list': 2,
        'GET runtime list': 1,
        'DELETE linked service': 1,
        'DELETE endpoint': 1,
        'GET connection list': 1
      })
    },
    scenarioTimeoutMs
  )
})
