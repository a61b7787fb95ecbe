import { describe, expect, test } from '@jest/globals'
import {
  checkIssueLabel,
  checkIssueMarker,
  decideCheckIssue,
  publishCheckIssue
} from '../src/check-issue.js'
import type { RepositoryIssues } from '../src/io.js'

const target = {
  factory: { subscriptionId: 'sub', resourceGroup: 'rg', name: 'adf' },
  server: { subscriptionId: 'sub', resourceGroup: 'rg', name: 'pg', id: '/pg' },
  linkedService: {
    name: 'PostgreSql_pg_appdb',
    database: 'appdb',
    port: 5432,
    sslMode: 'require' as const,
    credential: { kind: 'not-needed' as const }
  }
}
const marker = checkIssueMarker(target)
const run = {
  repository: 'o/r',
  runId: '42',
  runAttempt: '1',
  runUrl: 'https://github.com/o/r/actions/runs/42'
}

/** An in-memory repository; `refuse` fails every call as GitHub does for a token without issues: write. */
function repository(open: { number: number; body: string }[], refuse?: number) {
  const calls: string[] = []
  const bodies: string[] = []
  const fail = async (): Promise<never> => {
    throw Object.assign(new Error('Resource not accessible by integration'), { status: refuse })
  }
  const api: RepositoryIssues = {
    repository: 'o/r',
    listOpen: async (label) => (refuse ? fail() : (calls.push(`list ${label}`), open)),
    create: async (title, body, label) => {
      if (refuse) await fail()
      calls.push(`create ${label}: ${title}`)
      bodies.push(body)
      open.unshift({ number: 9, body })
      return 9
    },
    update: async (number) => void calls.push(`update #${number}`),
    comment: async (number, body) => void calls.push(`comment #${number}: ${body}`),
    close: async (number) => void calls.push(`close #${number}`)
  }
  return { api, calls, bodies }
}

function logger() {
  const lines: string[] = []
  return {
    lines,
    info: (m: string) => void lines.push(`info ${m}`),
    warning: (m: string) => void lines.push(`warning ${m}`),
    debug: () => undefined
  }
}

describe('decideCheckIssue', () => {
  const others = [{ number: 5, body: '<!-- adf-pg-private-link check: sub/rg/adf/Other -->\n' }]

  test('unhealthy: opens one when the target has none (another target’s issue does not count)', () => {
    expect(decideCheckIssue(others, marker, false)).toEqual({ kind: 'open' })
  })

  test('unhealthy: updates the oldest issue with the marker; healthy: closes it', () => {
    const open = [
      { number: 8, body: `${marker}\nnewer` },
      { number: 3, body: `${marker}\nolder` },
      ...others
    ]
    expect(decideCheckIssue(open, marker, false)).toEqual({ kind: 'update', number: 3 })
    expect(decideCheckIssue(open, marker, true)).toEqual({ kind: 'close', number: 3 })
  })

  test('healthy with no issue: nothing to do', () => {
    expect(decideCheckIssue(others, marker, true)).toEqual({ kind: 'none' })
  })
})

describe('publishCheckIssue', () => {
  test('opens an issue with the label, the marker first and the run link', async () => {
    const { api, calls, bodies } = repository([])
    const log = logger()
    await publishCheckIssue(api, target, { healthy: false, markdown: '## check failed', run }, log)
    expect(calls).toEqual([
      `list ${checkIssueLabel}`,
      `create ${checkIssueLabel}: Private link from data factory adf to server pg is unhealthy (linked service PostgreSql_pg_appdb)`
    ])
    expect(log.lines).toEqual(['info Opened issue #9 in o/r with the findings.'])
    expect(bodies).toEqual([expect.stringMatching(new RegExp(`^${marker}\n.*Run \\[42\\]`))])
    expect(bodies[0]).toContain('## check failed')
  })

  test('closes the open issue with a comment naming the run', async () => {
    const { api, calls } = repository([{ number: 4, body: `${marker}\nold findings` }])
    await publishCheckIssue(api, target, { healthy: true, markdown: '', run }, logger())
    expect(calls).toEqual([
      `list ${checkIssueLabel}`,
      `comment #4: The target is healthy again: Run [42](${run.runUrl}) (attempt 1).`,
      'close #4'
    ])
  })

  test.each([403, 404])(
    'a %s answer warns naming issues: write and never throws',
    async (status) => {
      const { api } = repository([], status)
      const log = logger()
      await publishCheckIssue(api, target, { healthy: false, markdown: '', run }, log)
      expect(log.lines).toEqual([expect.stringContaining("'permissions: issues: write'")])
    }
  )

  test('a 401 (a token GitHub does not accept) warns naming github-token, not a permission', async () => {
    const { api } = repository([], 401)
    const log = logger()
    await publishCheckIssue(api, target, { healthy: false, markdown: '', run }, log)
    expect(log.lines).toEqual([expect.stringContaining("'github-token'")])
    expect(log.lines[0]).not.toContain('issues: write')
  })
})
