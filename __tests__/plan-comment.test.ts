import { describe, expect, test } from '@jest/globals'
import type { PullRequestComments } from '../src/io.js'
import { decidePlanComment, planCommentMarker, publishPlanComment } from '../src/plan-comment.js'

const marker = planCommentMarker({
  factory: { subscriptionId: 'sub', resourceGroup: 'rg', name: 'adf' },
  linkedService: {
    name: 'PostgreSql_pg_appdb',
    database: 'appdb',
    port: 5432,
    sslMode: 'require',
    credential: { kind: 'not-needed' }
  }
})

/** An in-memory pull request; `refuse` makes every call fail as GitHub does for a read-only token. */
function pullRequest(bodies: string[], refuse?: { status: number; message: string }) {
  const comments = bodies.map((body, index) => ({ id: index + 1, body }))
  const fail = async (): Promise<never> => {
    throw Object.assign(new Error(refuse?.message), { status: refuse?.status })
  }
  const api: PullRequestComments = {
    number: 7,
    list: async () => (refuse ? fail() : comments.map((comment) => ({ ...comment }))),
    create: async (body) => {
      if (refuse) await fail()
      comments.push({ id: comments.length + 1, body })
    },
    update: async (id, body) => {
      if (refuse) await fail()
      const comment = comments.find((candidate) => candidate.id === id)
      if (comment) comment.body = body
    }
  }
  return { api, comments }
}

function logger() {
  const lines: string[] = []
  return {
    lines,
    log: {
      info: (m: string) => void lines.push(m),
      warning: (m: string) => void lines.push(`warning: ${m}`),
      debug: () => undefined
    }
  }
}

describe('plan comment', () => {
  test('the marker names the target, so a matrix of targets gets one comment each', () => {
    expect(marker).toBe('<!-- adf-pg-private-link plan: sub/rg/adf/PostgreSql_pg_appdb -->')
  })

  test('updates the comment that carries the marker, else creates one', () => {
    expect(decidePlanComment([{ id: 3, body: 'LGTM' }], marker)).toEqual({ kind: 'create' })
    expect(
      decidePlanComment(
        [
          { id: 3, body: 'LGTM' },
          { id: 5, body: `${marker}\nold plan` },
          { id: 9, body: `${marker}\nanother` }
        ],
        marker
      )
    ).toEqual({ kind: 'update', id: 5 })
    expect(decidePlanComment([{ id: 4, body: `quoted ${marker}` }], marker)).toEqual({
      kind: 'create'
    })
  })

  test('writes one comment, then updates it in place', async () => {
    const { api, comments } = pullRequest(['LGTM'])
    const { log, lines } = logger()
    await publishPlanComment(api, marker, 'plan 1', log)
    await publishPlanComment(api, marker, 'plan 2', log)
    expect(comments).toEqual([
      { id: 1, body: 'LGTM' },
      { id: 2, body: `${marker}\nplan 2` }
    ])
    expect(lines).toEqual([
      'Wrote the plan on pull request #7.',
      'Updated the plan on pull request #7.'
    ])
  })

  test('a read-only token warns with the permission to add, and never throws', async () => {
    const { api } = pullRequest([], {
      status: 403,
      message: 'Resource not accessible by integration'
    })
    const { log, lines } = logger()
    await publishPlanComment(api, marker, 'plan', log)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(
      /^warning: Could not write the plan on pull request #7: .*pull-requests: write/
    )
  })

  test('another failure warns with what GitHub said', async () => {
    const { api } = pullRequest([], { status: 502, message: 'Bad gateway' })
    const { log, lines } = logger()
    await publishPlanComment(api, marker, 'plan', log)
    expect(lines[0]).toContain('GitHub answered: Bad gateway')
  })
})
