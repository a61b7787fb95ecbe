// Credential rotation. With a Key Vault secret, the nightly check proves the linked service still
// connects after a rotation (and catches one half done); with an inline password, apply stages the
// new password, proves it through a temporary copy, writes it, and says the rotation succeeded.
import { describe, expect, test } from '@jest/globals'
import { randomBytes } from 'node:crypto'
import {
  changeWrites,
  describeRequests,
  e2eScenario,
  ids,
  keyVault,
  scenarioTimeoutMs,
  useEmulator,
  withKeyVault
} from './harness.js'

const newPassword = () => `Rotated-${randomBytes(12).toString('hex')}`

describe('rotation with a Key Vault secret', () => {
  const session = useEmulator(e2eScenario(withKeyVault))
  const keyVaultInputs = {
    password: '',
    'password-key-vault-linked-service': keyVault.linkedService,
    'password-secret-name': keyVault.secretName
  }

  test(
    'check fails while only the database has the new password, and is healthy once the vault has it',
    async () => {
      const setUp = await session.run(keyVaultInputs)
      expect(setUp.errors).toEqual([])
      const rotated = newPassword()
      await session.emulator.admin.setRolePassword({
        server: ids.serverName,
        role: ids.serverRole,
        password: rotated
      })
      const halfDone = await session.run({ ...keyVaultInputs, mode: 'check' })
      expect(halfDone.exitCode).toBe(1)
      expect(halfDone.outputs).toMatchObject({ healthy: 'false', 'connection-test': 'failed' })
      expect(JSON.parse(halfDone.outputs.findings)).toEqual([
        expect.objectContaining({ kind: 'failure', resource: 'Connection test' })
      ])

      session.emulator.admin.addKeyVaultSecretVersion({
        vaultBaseUrl: keyVault.baseUrl,
        name: keyVault.secretName,
        value: rotated
      })
      const done = await session.run({ ...keyVaultInputs, mode: 'check' })
      expect(done.errors).toEqual([])
      expect(done.outputs).toMatchObject({ healthy: 'true', 'connection-test': 'succeeded' })
      // The linked service names the secret, not its version: nothing to rewrite.
      expect(describeRequests(changeWrites(done.requests))).toEqual([])
    },
    2 * scenarioTimeoutMs
  )
})

describe('rotation with an inline password', () => {
  const session = useEmulator(e2eScenario())

  test(
    'apply with the new password proves it through a staged copy and says the rotation succeeded',
    async () => {
      expect((await session.run()).exitCode).toBe(0)
      const rotated = newPassword()
      await session.emulator.admin.setRolePassword({
        server: ids.serverName,
        role: ids.serverRole,
        password: rotated
      })
      const run = await session.run({ password: rotated })
      expect(run.errors).toEqual([])
      expect(run.changes).toEqual([
        expect.objectContaining({ action: 'updated', resource: 'linked-service' })
      ])
      expect(run.summary).toMatch(/\| ✅ Linked service write \|.*password rotation succeeded/)
      const check = await session.run({ password: rotated, mode: 'check' })
      expect(check.outputs.healthy).toBe('true')
    },
    2 * scenarioTimeoutMs
  )
})
