import { describe, expect, it } from '@jest/globals'
import { run } from '../src/main.js'
import { fakeIO, validInputs } from './helpers.js'

describe('run', () => {
  it('fails bad input before any request, still writing outputs and the summary, never the password', async () => {
    const io = fakeIO({ ...validInputs, 'ssl-mode': 'disable', 'factory-name': 'x' })
    await run(io)
    expect(io.written.failed).toMatch(/'ssl-mode' 'disable' \(sslMode 0\) is refused/)
    expect(io.written.failed).toMatch(/'factory-name' \('x'\) must be 3–63 characters/)
    expect(io.written.summary).toContain('## adf-pg-private-link: apply failed')
    expect(io.written.outputs).toMatchObject({
      changed: 'false',
      changes: '[]',
      'connection-test': 'skipped'
    })
    const everything = JSON.stringify(io.written)
    expect(everything).not.toContain(validInputs.password)
  })

  it('titles the summary with the requested mode even when other inputs are invalid', async () => {
    const io = fakeIO({ ...validInputs, mode: 'plan', 'factory-name': 'x' })
    await run(io)
    expect(io.written.summary).toContain('## adf-pg-private-link: plan failed')
  })

  it('explains a missing OIDC permission when auth is oidc', async () => {
    const saved = {
      url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL,
      token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    }
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL
    delete process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    try {
      const io = fakeIO({ ...validInputs, auth: 'oidc', 'client-id': 'c', 'tenant-id': 't' })
      await run(io)
      expect(io.written.failed).toMatch(/no OIDC token[\s\S]*id-token: write/)
      expect(io.written.summary).toContain('**Likely cause and fix:**')
    } finally {
      if (saved.url) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url
      if (saved.token) process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved.token
    }
  })
})
