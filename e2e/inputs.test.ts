// Issue 9, the input side: an invalid input fails before any request, naming the input, the cause
// and the fix; and no input value can write a workflow command into the log.
import { beforeEach, describe, expect, test } from '@jest/globals'
import {
  describeRequests,
  e2eScenario,
  ids,
  keyVault,
  scenarioTimeoutMs,
  useEmulator,
  withKeyVault,
  type E2eRun
} from './harness.js'

// A factory with a working Key Vault linked service: a bad secret name would get as far as the probe.
const session = useEmulator(e2eScenario(withKeyVault))

beforeEach(() => session.reset())

/** Commands the action writes itself through @actions/core (add-mask: the secrets and ID tokens). */
const ownCommands = ['add-mask', 'error', 'warning', 'debug', 'notice', 'group', 'endgroup']

/**
 * Stdout lines the runner would read as a workflow command the action did not mean to write:
 * `::command::` after leading whitespace, or the legacy `##[command]` anywhere in a line (the
 * runner's ActionCommand.TryParseV2 and TryParse), and any command carrying the `marker`.
 */
function strayCommandLines(run: E2eRun, marker: string): string[] {
  return run.stdout.split('\n').filter((line) => {
    if (line.includes('##[')) return true
    const command = /^\s*::([^:\s]+)[^:]*::/.exec(line)?.[1]
    if (!command) return false
    if (command === 'error') return false // the failure itself, whose text core escapes
    return !ownCommands.includes(command) || line.includes(marker)
  })
}

/** Refused before sign-in: exit 1, one ::error:: naming the input, nothing sent to the emulator. */
async function expectRefused(
  overrides: Record<string, string>,
  marker = 'injected'
): Promise<string> {
  const run = await session.run(overrides)
  expect(run.exitCode).toBe(1)
  expect(strayCommandLines(run, marker)).toEqual([])
  expect(describeRequests(run.requests)).toEqual([])
  expect(run.errors).toHaveLength(1)
  expect(run.errors[0]).toContain('nothing was sent to Azure')
  return run.errors[0]
}

describe('invalid inputs', () => {
  test(
    "server-name given as the server's FQDN: one error, naming server-name, suggesting the name",
    async () => {
      const error = await expectRefused({
        'server-name': `${ids.serverName}.postgres.database.azure.com`
      })
      expect(error).toContain(`'server-name'`)
      expect(error).toContain(`use '${ids.serverName}'`)
      // Only inputs the user set are reported: the endpoint name derived from it is not.
      expect(error).not.toContain('endpoint-name')
      expect(error).not.toContain('linked-service-name')
      expect(error.match(/^- /gm)).toHaveLength(1)
    },
    scenarioTimeoutMs
  )

  test(
    'a line break in resource-manager-endpoint or authority-host cannot inject workflow commands',
    async () => {
      const url = session.emulator.url
      const error = await expectRefused({
        'resource-manager-endpoint': `${url}/\n::warning::injected by resource-manager-endpoint`,
        'authority-host': `${url}/\n::add-mask::injected`
      })
      expect(error).toContain(`'resource-manager-endpoint'`)
      expect(error).toContain(`'authority-host'`)
      // The value is shown escaped, and the fix is named.
      expect(error).toContain('\\n::warning::injected')
      expect(error).toMatch(/contains '\\n', a line break: remove it/)
      expect(error).not.toContain('\n::')
    },
    scenarioTimeoutMs
  )

  test(
    'timeout beyond what any job can run is refused as an input, not by Node',
    async () => {
      const error = await expectRefused({ timeout: '99999999h' })
      expect(error).toContain(`'timeout'`)
      expect(error).not.toContain('out of range')
      expect(error).toMatch(/at most 5 days/)
    },
    scenarioTimeoutMs
  )

  test(
    'a Key Vault secret name with a path is refused before anything is written',
    async () => {
      const error = await expectRefused({
        password: '',
        'password-key-vault-linked-service': keyVault.linkedService,
        'password-secret-name': `../${keyVault.secretName}`
      })
      expect(error).toContain(`'password-secret-name'`)
      expect(error).toMatch(/letters, digits and '-'/)
      expect(error).toContain(`use '${keyVault.secretName}'`)
    },
    scenarioTimeoutMs
  )
})
