// GitHub's REST API for issue comments, as far as a plan comment on a pull request needs it: list,
// create and update, with a job token that may write (`pull-requests: write`) and one that may not
// (a fork's read-only token), answering 403 as GitHub does.
import { randomBytes } from 'node:crypto'
import type { EmuRequest, EmuResponse, Route } from './types.js'

/** Where the emulated API lives under the emulator's URL (GITHUB_API_URL for the action). */
export const githubApiPath = '/github-api'

export interface IssueComment {
  id: number
  body: string
}

export interface GitHubApi {
  routes: Route[]
  /** A token with `pull-requests: write`. */
  writeToken: string
  /** A token that may read but not write (a pull request from a fork, or no permission granted). */
  readOnlyToken: string
  /** The comments of an issue or pull request, oldest first. */
  comments(repository: string, number: number): IssueComment[]
}

function bearer(req: EmuRequest): string {
  const header = String(req.headers.authorization ?? '')
  return header.replace(/^(token|bearer)\s+/i, '')
}

function githubError(status: number, message: string, documentation: string): EmuResponse {
  return {
    status,
    body: {
      message,
      documentation_url: `https://docs.github.com/rest/issues/comments#${documentation}`,
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
  const routes: Route[] = [
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
    }
  }
}
