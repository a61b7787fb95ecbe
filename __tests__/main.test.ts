import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { CancelledError } from '../src/errors.js'
import { fakeIO, validInputs } from './fixtures/inputs.js'

/** Every SDK method called (`dataFactory.factories.get`); each waits until its request is aborted. */
const clientCalls: string[] = []
function recordingClient(path: string): unknown {
  return new Proxy(() => undefined, {
    get: (_, key) => (key === 'then' ? undefined : recordingClient(`${path}.${String(key)}`)),
    apply: (_, __, args: unknown[]) => {
      clientCalls.push(path)
      const signal = (args.at(-1) as { abortSignal: AbortSignal }).abortSignal
      const pending = new Promise((_resolve, reject) =>
        signal.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }))
        )
      )
      // A list call's pages are iterated, a get's answer awaited: this waits either way.
      return Object.assign(pending, {
        async *[Symbol.asyncIterator]() {
          yield await pending
        }
      })
    }
  })
}
const signInModule = await import('../src/azure/sign-in.js')
jest.unstable_mockModule('../src/azure/sign-in.js', () => ({
  ...signInModule,
  // Sign-in succeeds at once: these tests are about what follows it.
  createCredential: () => ({
    getToken: async () => ({ token: 'access-token', expiresOnTimestamp: Date.now() + 3_600_000 })
  })
}))
const clientsModule = await import('../src/azure/clients.js')
jest.unstable_mockModule('../src/azure/clients.js', () => ({
  ...clientsModule,
  createClients: () => ({
    dataFactory: recordingClient('dataFactory'),
    postgres: recordingClient('postgres')
  })
}))
const { explainTimeout, run } = await import('../src/main.js')

beforeEach(() => void (clientCalls.length = 0))

const signInIds = {
  'client-id': '3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c',
  'tenant-id': '5f1c7e2a-3b4d-4c6e-8f90-1a2b3c4d5e6f'
}

describe('run', () => {
  it('fails bad input before any request, still writing outputs and the summary, never the password', async () => {
    const io = fakeIO({ ...validInputs, 'ssl-mode': 'disable', 'factory-name': 'x' })
    await run(io)
    expect(clientCalls).toEqual([])
    expect(io.written.failed).toMatch(/'ssl-mode' is 'disable': sslMode 0 is refused/)
    expect(io.written.failed).toMatch(/'factory-name' is 'x': must be .*3–63 characters long/)
    expect(io.written.summary).toContain('## adf-pg-private-link: apply failed')
    expect(io.written.outputs).toMatchObject({
      changed: 'false',
      changes: '[]',
      'connection-test': 'skipped'
    })
    const everything = JSON.stringify(io.written)
    expect(everything).not.toContain(validInputs.password)
  })

  it('marks the runner state so the same entry runs as the post step', async () => {
    const io = fakeIO({ ...validInputs, 'factory-name': 'x' })
    await run(io)
    expect(io.written.state).toEqual({ isPost: 'true' })
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
      const io = fakeIO({ ...validInputs, auth: 'oidc', ...signInIds })
      await run(io)
      expect(io.written.failed).toMatch(/no OIDC token[\s\S]*id-token: write/)
      expect(clientCalls).toEqual([])
      expect(io.written.summary).toContain('**Likely cause and fix:**')
    } finally {
      if (saved.url) process.env.ACTIONS_ID_TOKEN_REQUEST_URL = saved.url
      if (saved.token) process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = saved.token
    }
  })

  it("calls Azure with valid input, and names the step's timeout when it runs out", async () => {
    const io = fakeIO({ ...validInputs, auth: 'azure-cli', timeout: '300ms' })
    await run(io)
    // Preflight's reads go out at once: the runtime, the server and its Private Link groups (the
    // factory only when needed).
    expect(clientCalls.sort()).toEqual([
      'dataFactory.integrationRuntimes.get',
      'postgres.privateLinkResources.listByServer',
      'postgres.servers.get'
    ])
    expect(io.written.failed).toMatch(
      /^The step's 'timeout' \(300ms\) was exceeded while trying to read the (integration runtime|PostgreSQL server)/
    )
  })
})

describe('explainTimeout', () => {
  const waiting = new CancelledError('waiting for the endpoint')

  it("says the step's timeout was exceeded when the signal timed out", async () => {
    const signal = AbortSignal.any([new AbortController().signal, AbortSignal.timeout(1)])
    await new Promise((resolve) => setTimeout(resolve, 20))
    const explained = explainTimeout(waiting, signal, 90_000) as Error
    expect(explained).not.toBeInstanceOf(CancelledError)
    expect(explained.message).toBe(
      "The step's 'timeout' (1m 30s) was exceeded while waiting for the endpoint."
    )
  })

  it('leaves a cancel a cancel', () => {
    const controller = new AbortController()
    controller.abort()
    const explained = explainTimeout(waiting, controller.signal, 90_000)
    expect(explained).toBe(waiting)
    expect((explained as Error).message).toBe('Cancelled while waiting for the endpoint.')
  })
})
