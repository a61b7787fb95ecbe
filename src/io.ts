// The action's only contact with @actions/core and @actions/github: small interfaces that steps
// and tests use, so nothing else imports the toolkit.
import * as core from '@actions/core'
import * as github from '@actions/github'
import { inert } from './escape.js'

export interface InputReader {
  /** The input's value, trimmed unless asked otherwise (a password may end in a space); '' when not given. */
  get(name: string, options?: { trimWhitespace: boolean }): string
}

export interface OutputWriter {
  set(name: string, value: string): void
}

export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
}

export interface SecretMasker {
  /** Masks the value in every later log line and remembers it for `redact`. */
  mask(secret: string): void
  /** The text with every masked value replaced by `***` (for files the runner does not mask). */
  redact(text: string): string
}

export interface SummaryWriter {
  write(markdown: string): Promise<void>
}

/** The runner's state between this action's phases (`main` saves, `post` reads STATE_<name>). */
export interface StateStore {
  save(name: string, value: string): void
  /** What this phase saved last, else what an earlier phase saved; '' when nothing was. */
  get(name: string): string
}

/** Who runs the action, for approval descriptions and the summary. */
export interface RunContext {
  repository: string
  runId: string
  runAttempt: string
  runUrl: string
}

/** The comments of the pull request this run is for, through GitHub's REST API. */
export interface PullRequestComments {
  number: number
  list(): Promise<{ id: number; body?: string }[]>
  create(body: string): Promise<void>
  update(id: number, body: string): Promise<void>
}

/** The run's repository's issues, through GitHub's REST API (issues only, no pull requests). */
export interface RepositoryIssues {
  repository: string
  /** Open issues carrying the label, newest first. */
  listOpen(label: string): Promise<{ number: number; body?: string | null }[]>
  /** Creates an issue with the label; returns its number. */
  create(title: string, body: string, label: string): Promise<number>
  update(number: number, body: string): Promise<void>
  comment(number: number, body: string): Promise<void>
  /** Closes it as completed. */
  close(number: number): Promise<void>
}

export interface ActionIO {
  inputs: InputReader
  outputs: OutputWriter
  log: Logger
  secrets: SecretMasker
  summary: SummaryWriter
  run: RunContext
  state: StateStore
  /** A fresh GitHub OIDC token for the audience (asked anew on every call). */
  idToken(audience: string): Promise<string>
  fail(message: string): void
  /** The comments of the run's pull request (pull_request events), undefined for other events. */
  pullRequestComments(token: string): PullRequestComments | undefined
  /** The issues of the run's repository. */
  repositoryIssues(token: string): RepositoryIssues
}

/** A SecretMasker that also keeps the values, so files the runner writes verbatim can be redacted. */
export function createSecretMasker(register: (secret: string) => void): SecretMasker {
  const secrets = new Set<string>()
  return {
    mask(secret) {
      if (!secret) return
      secrets.add(secret)
      register(secret)
    },
    redact(text) {
      let result = text
      for (const secret of secrets) result = result.split(secret).join('***')
      return result
    }
  }
}

function repositoryName(): string {
  try {
    const { owner, repo } = github.context.repo
    return `${owner}/${repo}`
  } catch {
    return 'unknown repository' // outside GitHub Actions (a local run)
  }
}

function runContext(): RunContext {
  const { runId, runAttempt, serverUrl } = github.context
  const repository = repositoryName()
  return {
    repository,
    runId: String(runId || 'local'),
    runAttempt: String(runAttempt || 1),
    runUrl: `${serverUrl}/${repository}/actions/runs/${runId}`
  }
}

/** The runner's state; values saved in this phase are kept too (core.getState sees only earlier ones). */
function runnerState(): StateStore {
  const saved = new Map<string, string>()
  return {
    save(name, value) {
      saved.set(name, value)
      core.saveState(name, value)
    },
    get: (name) => saved.get(name) ?? core.getState(name)
  }
}

function pullRequestComments(token: string): PullRequestComments | undefined {
  const number = github.context.payload.pull_request?.number
  if (number === undefined) return undefined
  // GITHUB_API_URL decides where it goes (GitHub Enterprise Server too).
  const octokit = github.getOctokit(token)
  const { owner, repo } = github.context.repo
  const issue = { owner, repo, issue_number: number }
  return {
    number,
    list: () => octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 }),
    async create(body) {
      await octokit.rest.issues.createComment({ ...issue, body })
    },
    async update(id, body) {
      await octokit.rest.issues.updateComment({ owner, repo, comment_id: id, body })
    }
  }
}

function repositoryIssues(token: string): RepositoryIssues {
  const octokit = github.getOctokit(token)
  const { owner, repo } = github.context.repo
  return {
    repository: `${owner}/${repo}`,
    async listOpen(label) {
      const listed = await octokit.paginate(octokit.rest.issues.listForRepo, {
        owner,
        repo,
        state: 'open',
        labels: label,
        per_page: 100
      })
      // GitHub lists pull requests among issues; they carry a `pull_request` key.
      return listed.filter((issue) => !issue.pull_request)
    },
    async create(title, body, label) {
      const created = await octokit.rest.issues.create({
        owner,
        repo,
        title,
        body,
        labels: [label]
      })
      return created.data.number
    },
    async update(number, body) {
      await octokit.rest.issues.update({ owner, repo, issue_number: number, body })
    },
    async comment(number, body) {
      await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body })
    },
    async close(number) {
      await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: number,
        state: 'closed',
        state_reason: 'completed'
      })
    }
  }
}

export function createActionIO(): ActionIO {
  const secrets = createSecretMasker(core.setSecret)
  return {
    inputs: { get: (name, options) => core.getInput(name, options) },
    outputs: { set: (name, value) => core.setOutput(name, value) },
    // Only core's own functions write workflow commands; no message line can start one.
    log: {
      info: (message) => core.info(inert(message)),
      warning: (message) => core.warning(inert(message)),
      // Only under step debug logging (RUNNER_DEBUG=1): otherwise the lines would only be hidden
      debug: (message) => {
        if (core.isDebug()) core.debug(inert(message))
      }
    },
    secrets,
    summary: {
      async write(markdown) {
        if (!process.env.GITHUB_STEP_SUMMARY) return
        await core.summary.addRaw(markdown, true).write()
      }
    },
    run: runContext(),
    state: runnerState(),
    async idToken(audience) {
      const token = await core.getIDToken(audience)
      secrets.mask(token) // so the summary file, which the runner does not mask, never shows it
      return token
    },
    fail: core.setFailed,
    pullRequestComments,
    repositoryIssues
  }
}
