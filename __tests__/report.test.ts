import { describe, expect, it } from '@jest/globals'
import { ActionError, CancelledError } from '../src/errors.js'
import { createSecretMasker, type Logger } from '../src/io.js'
import { changeLine, fitSummary, outputNames, RunReport } from '../src/report.js'
import { WaitTimeoutError } from '../src/waiting.js'

function clock(...times: number[]): () => number {
  return () => times.shift() ?? 0
}

/** A logger that keeps its info lines. */
function recorder(): Logger & { lines: string[] } {
  const lines: string[] = []
  return {
    lines,
    info: (m) => void lines.push(m),
    warning: () => undefined,
    debug: () => undefined
  }
}

describe('RunReport', () => {
  it('check: each planned change is a drift finding, a failure one more; healthy only with none', () => {
    const clean = new RunReport('check', recorder())
    expect(clean.outputValues()).toMatchObject({ healthy: 'true', drift: 'false', findings: '[]' })
    expect(clean.summaryMarkdown()).toMatch(/^## adf-pg-private-link: check succeeded: healthy\n/)

    const report = new RunReport('check', recorder())
    report.change({
      action: 'recreate',
      resource: 'managed-private-endpoint',
      id: '/pe',
      reason: 'gone from the server'
    })
    report.fail(new ActionError('The Lookup failed.'), 'Connection test')
    expect(report.outputValues()).toMatchObject({ healthy: 'false', drift: 'true' })
    expect(JSON.parse(report.outputValues().findings)).toEqual([
      {
        kind: 'drift',
        resource: 'managed-private-endpoint',
        id: '/pe',
        detail: 'recreate; gone from the server'
      },
      { kind: 'failure', resource: 'Connection test', id: '', detail: 'The Lookup failed.' }
    ])
    expect(report.summaryMarkdown()).toContain(
      'Apply would make 1 change(s); nothing was written but the connection test.'
    )
  })

  it('leaves the health outputs empty outside check (apply, plan, destroy, approve)', () => {
    for (const mode of ['apply', 'plan', 'destroy', 'approve'] as const) {
      const report = new RunReport(mode, recorder())
      report.change({ action: 'approved', resource: 'private-endpoint-connection', id: '/pec' })
      expect(report.outputValues()).toMatchObject({ healthy: '', drift: '', findings: '' })
    }
  })

  it('logs a note as a warning and lists it under Notes; export-files defaults to []', () => {
    const warnings: string[] = []
    const report = new RunReport('apply', { ...recorder(), warning: (m) => void warnings.push(m) })
    report.note('The factory is Git-integrated | commit the files.')
    expect(warnings).toEqual(['The factory is Git-integrated | commit the files.'])
    expect(report.summaryMarkdown()).toContain(
      '### Notes\n\n- ⚠️ The factory is Git-integrated | commit the files.'
    )
    expect(report.outputValues()['export-files']).toBe('[]')
  })

  it('sets every output, with changed and changes from the recorded changes', async () => {
    const report = new RunReport('apply', recorder(), clock(0, 1500))
    await report.step('Managed private endpoint', async () => {
      report.output('private-endpoint-name', 'pg-x')
      report.change({ action: 'created', resource: 'managed-private-endpoint', id: '/pe' })
      return { value: undefined, found: 'no endpoint', done: 'created' }
    })
    const outputs = report.outputValues()
    expect(Object.keys(outputs).sort()).toEqual([...outputNames].sort())
    expect(outputs).toMatchObject({
      'private-endpoint-name': 'pg-x',
      'connection-test': 'skipped',
      'private-endpoint-id': '',
      changed: 'true'
    })
    expect(JSON.parse(outputs.changes)).toEqual([
      { action: 'created', resource: 'managed-private-endpoint', id: '/pe' }
    ])
  })

  it('reports changed=false and [] when nothing changed', () => {
    expect(new RunReport('apply', recorder()).outputValues()).toMatchObject({
      changed: 'false',
      changes: '[]'
    })
  })

  it('writes one summary row per step with what was found, done and how long', async () => {
    const report = new RunReport('apply', recorder(), clock(0, 2_000))
    await report.step('Preflight', async () => ({
      value: 1,
      found: 'factory | ok',
      done: 'checked'
    }))
    const summary = report.summaryMarkdown()
    expect(summary).toContain('## adf-pg-private-link: apply succeeded')
    expect(summary).toContain('| ✅ Preflight | factory \\| ok | checked | 2s |')
  })

  it('records a failing step, the error and its hint, and rethrows', async () => {
    const report = new RunReport('apply', recorder(), clock(0, 10))
    const error = new ActionError('Could not approve.', { hint: 'Grant the role.' })
    await expect(report.step('Approval', async () => Promise.reject(error))).rejects.toBe(error)
    const summary = report.summaryMarkdown()
    expect(summary).toContain('## adf-pg-private-link: apply failed')
    expect(summary).toContain('| ❌ Approval |  | failed | 10ms |')
    expect(summary).toContain('> Could not approve.')
    expect(summary).toContain('**Likely cause and fix:** Grant the role.')
    expect(report.failed).toMatchObject({ step: 'Approval', message: 'Could not approve.' })
  })

  it('shows text from Azure and the inputs as text, never as HTML or a table break', async () => {
    const report = new RunReport('apply', recorder(), clock(0, 10))
    const hostile = "database '<img src=x onerror=alert(1)>' | x"
    await report
      .step('Connection test', async () =>
        Promise.reject(new ActionError(`The connection test failed: ${hostile}`, { hint: hostile }))
      )
      .catch(() => undefined)
    const summary = report.summaryMarkdown()
    expect(summary).not.toContain('<img')
    expect(summary).toContain(
      "> The connection test failed: database '&lt;img src=x onerror=alert(1)&gt;' | x"
    )
    expect(summary).toContain(
      "**Likely cause and fix:** database '&lt;img src=x onerror=alert(1)&gt;' | x"
    )
  })

  it('says cancelled when the run was cancelled', async () => {
    const report = new RunReport('apply', recorder())
    await expect(
      report.step('Approval', async () => Promise.reject(new CancelledError('waiting')))
    ).rejects.toThrow()
    expect(report.summaryMarkdown()).toContain('apply cancelled')
  })

  it('in plan mode says nothing was written and lists planned changes with their fields', () => {
    const report = new RunReport('plan', recorder())
    report.change({
      action: 'update',
      resource: 'linked-service',
      id: '/ls',
      fields: ['typeProperties.sslMode']
    })
    const summary = report.summaryMarkdown()
    expect(summary).toContain('Apply would make 1 change(s); nothing was written.')
    expect(summary).toContain('### Planned changes')
    expect(summary).toContain('| update | linked-service | /ls | fields: typeProperties.sslMode |')
  })

  it('redacts masked secrets from outputs and the summary', async () => {
    const report = new RunReport('apply', recorder())
    report.fail(new Error('bad password hunter2 rejected'))
    const masker = createSecretMasker(() => undefined)
    masker.mask('hunter2')
    const written: Record<string, string> = {}
    let summary = ''
    report.output('server-fqdn', 'hunter2.example')
    await report.publish(
      { set: (name, value) => void (written[name] = value) },
      { write: async (text) => void (summary = text) },
      masker
    )
    expect(written['server-fqdn']).toBe('***.example')
    expect(summary).toContain('bad password *** rejected')
    expect(summary).not.toContain('hunter2')
  })

  it('keeps the summary under the 1 MiB limit', () => {
    const fitted = fitSummary('x'.repeat(2_000_000))
    expect(Buffer.byteLength(fitted)).toBeLessThanOrEqual(1_000_000)
    expect(fitted).toContain('summary truncated')
    expect(fitSummary('short')).toBe('short')
  })

  it('logs each change when it is recorded, in past tense for apply and as a plan for plan', () => {
    const log = recorder()
    const report = new RunReport('apply', log)
    report.change({ action: 'created', resource: 'managed-private-endpoint', id: '/pe' })
    expect(log.lines).toEqual(['Created managed-private-endpoint /pe'])
    expect(
      changeLine(
        { action: 'update', resource: 'linked-service', id: '/ls', fields: ['sslMode'] },
        'plan'
      )
    ).toBe('Plan: update linked-service /ls (fields: sslMode)')
  })

  it('blames a wait that timed out on the obstacle recorded in the same step', async () => {
    const report = new RunReport('apply', recorder())
    const timeout = new WaitTimeoutError('Timed out after 2s waiting for someone.', 'Raise it.')
    await expect(
      report.step('Approval', async () => {
        report.obstacle(new ActionError('Could not approve (HTTP 403).', { hint: 'Grant X on S.' }))
        throw timeout
      })
    ).rejects.toBe(timeout)
    expect(report.failed).toMatchObject({
      message:
        'Timed out after 2s waiting for someone.\nIt could only end by someone else: Could not approve (HTTP 403).',
      hint: 'Grant X on S.'
    })
  })

  it('does not carry an obstacle into a later step', async () => {
    const report = new RunReport('apply', recorder())
    await report.step('Approval', async () => {
      report.obstacle(new ActionError('Could not approve.', { hint: 'Grant X.' }))
      return { value: undefined, found: '', done: 'approved by someone else' }
    })
    const timeout = new WaitTimeoutError('Timed out waiting for the run.', 'Raise test-timeout.')
    await expect(report.step('Connection test', async () => Promise.reject(timeout))).rejects.toBe(
      timeout
    )
    expect(report.failed).toMatchObject({ hint: 'Raise test-timeout.' })
  })

  it('gives every failure a likely cause and fix, the catalogue fallback when none is known', () => {
    const report = new RunReport('apply', recorder())
    report.fail(new Error('something odd'))
    expect(report.summaryMarkdown()).toMatch(
      /\*\*Likely cause and fix:\*\* A failure the action does not recognise\. Read the message above/
    )
  })
})
