// Test doubles for the action's I/O interfaces.
import { InputError } from '../src/errors.js'
import { readSettings } from '../src/inputs.js'
import { createSecretMasker, type ActionIO, type InputReader } from '../src/io.js'

export const validInputs: Record<string, string> = {
  'subscription-id': '0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47',
  'resource-group': 'rg-data',
  'factory-name': 'adf-demo',
  'server-name': 'pg-demo',
  database: 'appdb',
  username: 'adfuser',
  password: 'Sup3r-secret!'
}

/** Reads like core.getInput: trimmed unless asked otherwise, '' when not given. */
export function reader(values: Record<string, string>, calls: string[] = []): InputReader {
  return {
    get(name, options) {
      calls.push(`get:${name}`)
      const value = values[name] ?? ''
      return options?.trimWhitespace === false ? value : value.trim()
    }
  }
}

/** Settings from validInputs with `overrides`; masked secrets are pushed to `masked`. */
export function settingsFrom(overrides: Record<string, string> = {}, masked: string[] = []) {
  return readSettings(
    reader({ ...validInputs, ...overrides }),
    createSecretMasker((secret) => masked.push(secret))
  )
}

/** The problems readSettings reports for validInputs with `overrides` (it must report some). */
export function inputProblems(overrides: Record<string, string>): string[] {
  try {
    settingsFrom(overrides)
  } catch (error) {
    if (error instanceof InputError) return error.problems
    throw error
  }
  throw new Error(`expected an InputError for ${JSON.stringify(overrides)}`)
}

export interface FakeIO extends ActionIO {
  written: {
    outputs: Record<string, string>
    summary: string
    failed?: string
    logs: string[]
    /** What the action saved with state.save (and what state.get reads). */
    state: Record<string, string>
  }
}

export function fakeIO(
  inputs: Record<string, string>,
  savedState: Record<string, string> = {}
): FakeIO {
  const written: FakeIO['written'] = { outputs: {}, summary: '', logs: [], state: savedState }
  return {
    written,
    inputs: reader(inputs),
    outputs: { set: (name, value) => void (written.outputs[name] = value) },
    log: {
      info: (m) => void written.logs.push(m),
      warning: (m) => void written.logs.push(`warning: ${m}`),
      debug: () => undefined
    },
    secrets: createSecretMasker(() => undefined),
    summary: { write: async (markdown) => void (written.summary = markdown) },
    run: {
      repository: 'octo/repo',
      runId: '42',
      runAttempt: '1',
      runUrl: 'https://github.com/octo/repo/actions/runs/42'
    },
    state: {
      save: (name, value) => void (written.state[name] = value),
      get: (name) => written.state[name] ?? ''
    },
    idToken: async () => 'token',
    fail: (message) => void (written.failed = message),
    pullRequestComments: () => undefined,
    repositoryIssues: () => {
      throw new Error('no GitHub API in unit tests')
    }
  }
}
