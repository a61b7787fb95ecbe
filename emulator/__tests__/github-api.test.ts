// The emulated GitHub REST API for issues, in GitHub's shapes: list by state and labels (newest
// first, no pull requests), create (201), update (state_reason only with a state change), and the
// 401/403 answers for unknown and read-only tokens.
import { describe, expect, test } from '@jest/globals'
import { createGitHubApi, githubApiPath } from '../src/github-api.js'
import { Router } from '../src/router.js'
import type { EmuResponse, HttpMethod } from '../src/types.js'

function client() {
  const api = createGitHubApi()
  const router = new Router(api.routes)
  const call = async (
    method: HttpMethod,
    path: string,
    options: { token?: string; body?: unknown; query?: string } = {}
  ): Promise<EmuResponse> => {
    const fullPath = `${githubApiPath}/repos/octo/repo${path}`
    const match = router.match(method, fullPath)
    if (!match) throw new Error(`no route for ${method} ${fullPath}`)
    return match.route.handle({
      method,
      path: fullPath,
      params: match.params,
      query: new URLSearchParams(options.query ?? ''),
      headers: { authorization: `token ${options.token ?? api.writeToken}` },
      body: options.body
    })
  }
  return { api, call }
}

describe('GitHub issues API', () => {
  test('create answers 201 with the number; list filters by state and labels, newest first', async () => {
    const { call } = client()
    const first = await call('POST', '/issues', {
      body: { title: 'one', body: 'b1', labels: ['adf-pg-private-link'] }
    })
    expect(first).toMatchObject({ status: 201, body: { number: 1, state: 'open', title: 'one' } })
    await call('POST', '/issues', { body: { title: 'two', labels: ['other'] } })
    await call('POST', '/issues', { body: { title: 'three', labels: ['adf-pg-private-link'] } })
    const listed = await call('GET', '/issues', { query: 'state=open&labels=adf-pg-private-link' })
    expect((listed.body as { number: number }[]).map((issue) => issue.number)).toEqual([3, 1])
    const labels = (listed.body as { labels: { name: string }[] }[])[0].labels
    expect(labels).toEqual([expect.objectContaining({ name: 'adf-pg-private-link' })])
  })

  test('an update closes with a reason only when the state changes; closed issues leave the open list', async () => {
    const { call, api } = client()
    await call('POST', '/issues', { body: { title: 'one' } })
    await call('PATCH', '/issues/1', { body: { state_reason: 'not_planned' } })
    expect(api.issues('octo/repo')[0]).toMatchObject({ state: 'open', stateReason: null })
    const closed = await call('PATCH', '/issues/1', {
      body: { state: 'closed', state_reason: 'completed', body: 'new body' }
    })
    expect(closed.body).toMatchObject({
      state: 'closed',
      state_reason: 'completed',
      body: 'new body'
    })
    expect((await call('GET', '/issues')).body).toEqual([])
    expect((await call('GET', '/issues', { query: 'state=closed' })).body).toHaveLength(1)
    expect((await call('PATCH', '/issues/9', { body: {} })).status).toBe(404)
  })

  test('a read-only token may list but not write (403); an unknown one gets 401', async () => {
    const { call, api } = client()
    expect((await call('GET', '/issues', { token: api.readOnlyToken })).status).toBe(200)
    const refused = await call('POST', '/issues', {
      token: api.readOnlyToken,
      body: { title: 'x' }
    })
    expect(refused).toMatchObject({
      status: 403,
      body: { message: 'Resource not accessible by integration' }
    })
    expect((await call('GET', '/issues', { token: 'ghs_unknown' })).status).toBe(401)
    expect((await call('POST', '/issues', { body: {} })).status).toBe(422)
  })
})
