// GitHub's REST API for issues and their comments, as far as a plan comment on a pull request and
// the health check's issue need them: issues listed (by state and labels), created, updated (body,
// state) and commented on, with a job token that may write (`pull-requests: write`, `issues: write`)
// and one that may not (a fork's read-only token), answering 403 as GitHub does.
import { randomBytes } from 'node:crypto'
import type { EmuRequest, EmuResponse, Route } from './types.js'

/** Where the emulated API lives under the emulator's URL (GITHUB_API_URL for the action). */
export const githubApiPath = '/github-api'

export interface IssueComment {
  id: number
  body: string
}

/** An issue as the tests read it (GitHub's `number`, `title`, `body`, `state`, label names). */
export interface Issue {
  number: number
  title: string
  body: string
  state: 'open' | 'closed'
  stateReason: 'completed' | 'not_planned' | 'reopened' | null
  labels: string[]
}

export interface GitHubApi {
  routes: Route[]
  /** A token with `pull-requests: write`. */
  writeToken: string
  /** A token that may read but not write (a pull request from a fork, or no permission granted). */
  readOnlyToken: string
  /** The comments of an issue or pull request, oldest first. */
  comments(repository: string, number: number): IssueComment[]
  /** The repository's issues, oldest first. */
  issues(repository: string): Issue[]
}

function bearer(req: EmuRequest): string {
  const header = String(req.headers.authorization ?? '')
  return header.replace(/^(token|bearer)\s+/i, '')
}

function githubError(status: number, message: string, documentation: string): EmuResponse {
  const page = documentation.includes('comment') ? 'issues/comments' : 'issues/issues'
  return {
    status,
    body: {
      message,
      documentation_url: `https://docs.github.com/rest/${page}#${documentation}`,
      status: String(status)
    }
  }
}

export function createGitHubApi(): GitHubApi {
  const writeToken = `ghs_${randomBytes(18).toString('base64url')}`
  const readOnlyToken = `ghs_${randomBytes(18).toString('base64url')}`
  const threads = new Map<string, IssueComment[]>()
  let nextId = 1000
  const thread = (owner: string, repo: string, number: string | number): IssueComment[] => {
    const key = `${owner}/${repo}#${number}`.toLowerCase()
    if (!threads.has(key)) threads.set(key, [])
    return threads.get(key) as IssueComment[]
  }
  const commentBody = (req: EmuRequest, comment: IssueComment) => ({
    id: comment.id,
    body: comment.body,
    html_url: `https://github.com/${req.params.owner}/${req.params.repo}/pull/0#issuecomment-${comment.id}`,
    user: { login: 'github-actions[bot]', type: 'Bot' }
  })
  /** 401 without a known token; 403 for a write with the read-only one, as GitHub answers it. */
  const authorize = (
    req: EmuRequest,
    write: boolean,
    documentation: string
  ): EmuResponse | undefined => {
    const token = bearer(req)
    if (token !== writeToken && token !== readOnlyToken)
      return githubError(401, 'Bad credentials', documentation)
    if (write && token === readOnlyToken)
      return githubError(403, 'Resource not accessible by integration', documentation)
    return undefined
  }
  const text = (req: EmuRequest): string => String((req.body as { body?: unknown })?.body ?? '')
  const base = `${githubApiPath}/repos/:owner/:repo/issues`
  // Issues and pull requests share one number sequence per repository; these are issues only.
  const issuesByRepository = new Map<string, Issue[]>()
  const issuesOf = (owner: string, repo: string): Issue[] => {
    const key = `${owner}/${repo}`.toLowerCase()
    if (!issuesByRepository.has(key)) issuesByRepository.set(key, [])
    return issuesByRepository.get(key) as Issue[]
  }
  const issueBody = (req: EmuRequest, issue: Issue) => ({
    id: 5_000_000 + issue.number,
    number: issue.number,
    title: issue.title,
    body: issue.body,
    state: issue.state,
    state_reason: issue.stateReason,
    labels: issue.labels.map((name) => ({ name, default: false })),
    comments: thread(req.params.owner, req.params.repo, issue.number).length,
    url: `https://api.github.com/repos/${req.params.owner}/${req.params.repo}/issues/${issue.number}`,
    html_url: `https://github.com/${req.params.owner}/${req.params.repo}/issues/${issue.number}`,
    user: { login: 'github-actions[bot]', type: 'Bot' }
  })
  const findIssue = (req: EmuRequest): Issue | undefined =>
    issuesOf(req.params.owner, req.params.repo).find(
      (issue) => issue.number === Number(req.params.number)
    )
  const fields = (req: EmuRequest) =>
    (req.body ?? {}) as {
      title?: unknown
      body?: unknown
      state?: unknown
      state_reason?: unknown
      labels?: unknown
    }
  const routes: Route[] = [
    {
      method: 'GET',
      pattern: base,
      handle: (req) => {
        const refused = authorize(req, false, 'list-repository-issues')
        if (refused) return refused
        // GitHub's filters: state (open by default, closed, all) and labels (comma-separated, all must match).
        const state = req.query.get('state') ?? 'open'
        const labels = (req.query.get('labels') ?? '').split(',').filter(Boolean)
        const perPage = Math.min(Number(req.query.get('per_page') ?? 30) || 30, 100)
        const page = Math.max(Number(req.query.get('page') ?? 1) || 1, 1)
        const matching = issuesOf(req.params.owner, req.params.repo)
          .filter((issue) => state === 'all' || issue.state === state)
          .filter((issue) => labels.every((label) => issue.labels.includes(label)))
          // GitHub lists the newest first by default (sort=created, direction=desc).
          .reverse()
        return {
          status: 200,
          body: matching
            .slice((page - 1) * perPage, page * perPage)
            .map((issue) => issueBody(req, issue))
        }
      }
    },
    {
      method: 'POST',
      pattern: base,
      handle: (req) => {
        const refused = authorize(req, true, 'create-an-issue')
        if (refused) return refused
        const { title, body, labels } = fields(req)
        if (typeof title !== 'string' || !title)
          return githubError(422, 'Validation Failed', 'create-an-issue')
        const issues = issuesOf(req.params.owner, req.params.repo)
        const issue: Issue = {
          number: issues.length + 1,
          title,
          body: typeof body === 'string' ? body : '',
          state: 'open',
          stateReason: null,
          labels: Array.isArray(labels) ? labels.map(String) : []
        }
        issues.push(issue)
        return { status: 201, body: issueBody(req, issue) }
      }
    },
    {
      method: 'PATCH',
      pattern: `${base}/:number`,
      handle: (req) => {
        const refused = authorize(req, true, 'update-an-issue')
        if (refused) return refused
        const issue = findIssue(req)
        if (!issue) return githubError(404, 'Not Found', 'update-an-issue')
        const { title, body, state, state_reason: reason } = fields(req)
        if (typeof title === 'string') issue.title = title
        if (typeof body === 'string') issue.body = body
        // GitHub ignores state_reason unless the state changes; closing defaults to completed.
        if ((state === 'open' || state === 'closed') && state !== issue.state) {
          issue.state = state
          issue.stateReason =
            state === 'open' ? 'reopened' : reason === 'not_planned' ? 'not_planned' : 'completed'
        }
        return { status: 200, body: issueBody(req, issue) }
      }
    },
    {
      method: 'GET',
      pattern: `${base}/:number/comments`,
      handle: (req) =>
        authorize(req, false, 'list-issue-comments') ?? {
          status: 200,
          body: thread(req.params.owner, req.params.repo, req.params.number).map((comment) =>
            commentBody(req, comment)
          )
        }
    },
    {
      method: 'POST',
      pattern: `${base}/:number/comments`,
      handle: (req) => {
        const refused = authorize(req, true, 'create-an-issue-comment')
        if (refused) return refused
        const comment = { id: nextId++, body: text(req) }
        thread(req.params.owner, req.params.repo, req.params.number).push(comment)
        return { status: 201, body: commentBody(req, comment) }
      }
    },
    {
      method: 'PATCH',
      pattern: `${base}/comments/:commentId`,
      handle: (req) => {
        const refused = authorize(req, true, 'update-an-issue-comment')
        if (refused) return refused
        const id = Number(req.params.commentId)
        const comment = [...threads.values()].flat().find((candidate) => candidate.id === id)
        if (!comment) return githubError(404, 'Not Found', 'update-an-issue-comment')
        comment.body = text(req)
        return { status: 200, body: commentBody(req, comment) }
      }
    }
  ]
  return {
    routes,
    writeToken,
    readOnlyToken,
    comments: (repository, number) => {
      const [owner, repo] = repository.split('/')
      return thread(owner, repo, number).map((comment) => ({ ...comment }))
    },
    issues: (repository) => {
      const [owner, repo] = repository.split('/')
      return issuesOf(owner, repo).map((issue) => ({ ...issue, labels: [...issue.labels] }))
    }
  }
}
