import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// The runner's environment as @actions/core and @actions/github read it; github's context is
// read once, when the module loads, so it is set before the import.
const dir = mkdtempSync(path.join(os.tmpdir(), 'io-test-'))
const files = {
  output: path.join(dir, 'output'),
  state: path.join(dir, 'state'),
  summary: path.join(dir, 'summary')
}
const runnerEnv: Record<string, string> = {
  GITHUB_REPOSITORY: 'octo-org/data-platform',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_OUTPUT: files.output,
  GITHUB_STATE: files.state,
  'INPUT_SERVER-NAME': 'pg-demo',
  INPUT_PASSWORD: ' ends in a space ',
  STATE_isPost: 'true'
}
const saved = Object.fromEntries(Object.keys(runnerEnv).map((name) => [name, process.env[name]]))
Object.assign(process.env, runnerEnv)
delete process.env.GITHUB_EVENT_PATH
const { createActionIO, createSecretMasker } = await import('../src/io.js')

afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  rmSync(dir, { recursive: true, force: true })
})

/** What the step writes to stdout (workflow commands included) while `act` runs. */
function stdoutOf(act: () => void): string {
  const lines: string[] = []
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk))
    return true
  })
  try {
    act()
  } finally {
    spy.mockRestore()
  }
  return lines.join('')
}

beforeEach(() => {
  for (const file of Object.values(files)) writeFileSync(file, '')
})

describe('createSecretMasker', () => {
  it('registers each secret with the runner and redacts every copy, ignoring empty values', () => {
    const registered: string[] = []
    const masker = createSecretMasker((secret) => registered.push(secret))
    masker.mask('s3cret')
    masker.mask('')
    expect(registered).toEqual(['s3cret'])
    expect(masker.redact('a s3cret and s3cret again')).toBe('a *** and *** again')
  })
})

describe('createActionIO', () => {
  it('reads inputs as core.getInput does: trimmed unless asked otherwise', () => {
    const io = createActionIO()
    expect(io.inputs.get('server-name')).toBe('pg-demo')
    expect(io.inputs.get('password')).toBe('ends in a space')
    expect(io.inputs.get('password', { trimWhitespace: false })).toBe(' ends in a space ')
    expect(io.inputs.get('not-given')).toBe('')
  })

  it("writes outputs to the runner's output file", () => {
    createActionIO().outputs.set('connection-state', 'Approved')
    expect(readFileSync(files.output, 'utf8')).toMatch(/connection-state<<.*\nApproved\n/)
  })

  it('masks through the runner, and no log line can start a workflow command', () => {
    const io = createActionIO()
    const written = stdoutOf(() => {
      io.secrets.mask('p@ss')
      io.log.info('::error::not a command\n##[warning]neither')
      io.log.warning('::set-output name=x::y')
    })
    expect(written).toContain('::add-mask::p@ss')
    const lines = written.split('\n')
    expect(lines.filter((line) => /^\s*::(error|set-output)/.test(line))).toEqual([])
    expect(written).not.toContain('##[warning]')
    expect(written).toMatch(/^::warning::/m)
  })

  it('keeps state saved in this phase, and reads what an earlier phase saved', () => {
    const io = createActionIO()
    expect(io.state.get('isPost')).toBe('true')
    expect(io.state.get('endpoint')).toBe('')
    io.state.save('endpoint', 'pg-pg-demo')
    expect(io.state.get('endpoint')).toBe('pg-pg-demo')
    expect(readFileSync(files.state, 'utf8')).toMatch(/endpoint<<.*\npg-pg-demo\n/)
  })

  it('writes the job summary only when the runner gives a summary file', async () => {
    delete process.env.GITHUB_STEP_SUMMARY
    await createActionIO().summary.write('# not written')
    process.env.GITHUB_STEP_SUMMARY = files.summary
    try {
      await createActionIO().summary.write('# Private Link')
      expect(readFileSync(files.summary, 'utf8')).toBe(`# Private Link${os.EOL}`)
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY
    }
  })

  it('names the run from the runner, and has no pull request outside pull_request events', () => {
    const io = createActionIO()
    expect(io.run).toEqual({
      repository: 'octo-org/data-platform',
      runId: '4242',
      runAttempt: '2',
      runUrl: 'https://github.com/octo-org/data-platform/actions/runs/4242'
    })
    expect(io.pullRequestComments('token')).toBeUndefined()
    expect(io.repositoryIssues('token').repository).toBe('octo-org/data-platform')
  })

  it('fails the step with an error line and exit code 1', () => {
    const before = process.exitCode
    try {
      const written = stdoutOf(() => createActionIO().fail('it broke'))
      expect(written).toContain('::error::it broke')
      expect(process.exitCode).toBe(1)
    } finally {
      process.exitCode = before
    }
  })
})
