// Git-integrated factories (issue 10): a release from the collaboration branch deletes what is not
// in Git, so apply warns and, with export-path, writes the objects as Data Factory Studio commits them.
import { afterEach, beforeEach, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  canaries,
  e2eScenario,
  factoryState,
  ids,
  scenarioTimeoutMs,
  serverId,
  useEmulator
} from './harness.js'

const gitFactory = 'adf-git-integrated'
/** A factory whose linked service Data Factory stored with an encryptedCredential, and an old password. */
const storedCredentialFactory = 'adf-stored-credential'
// As Data Factory stores an inline secret (cliext-datafactory-main_linkedservice-put-masked-with-encryptedcredential.json).
const recordedEncryptedCredential =
  'ew0KICAiVmVyc2lvbiI6ICIyMDE3LTExLTMwIiwNCiAgIlByb3RlY3Rpb25Nb2RlIjogIktleSIsDQogICJTZWNyZXRDb250ZW50VHlwZSI6ICJQbGFpbnRleHQiLA0KICAiQ3JlZGVudGlhbElkIjogIkVYQU1QTEVGQTVRTkMzREZCM184YWVmOGZkOC0yN2M2LTQ1NDEtOTM0MC01NmU0ZTlkNTBmZTUiDQp9'
const repo = {
  type: 'FactoryGitHubConfiguration',
  accountName: 'octo-org',
  repositoryName: 'adf-repo',
  collaborationBranch: 'main',
  rootFolder: '/factory'
} as const

// The basic factory (no Git) and a copy of it that is Git-integrated.
const session = useEmulator(
  e2eScenario((scenario) => {
    scenario.factories.push({
      ...scenario.factories[0],
      name: gitFactory,
      repoConfiguration: repo
    })
    scenario.factories.push({
      ...scenario.factories[0],
      name: storedCredentialFactory,
      linkedServices: {
        [ids.defaultLinkedServiceName]: {
          properties: {
            type: 'AzurePostgreSql',
            version: '2.0',
            typeProperties: {
              server: `${ids.serverName}.postgres.database.azure.com`,
              port: 5432,
              database: ids.database,
              sslMode: 3,
              username: ids.serverRole,
              authenticationType: 'BasicAuth',
              password: { type: 'SecureString', value: 'An-older-password-1' },
              encryptedCredential: recordedEncryptedCredential
            },
            connectVia: { referenceName: ids.managedRuntime, type: 'IntegrationRuntimeReference' }
          }
        }
      }
    })
  })
)

let workspace: string
beforeEach(async () => {
  await session.reset()
  workspace = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-workspace-'))
})
afterEach(() => rm(workspace, { recursive: true, force: true }))

/** Every file under `dir`, as paths relative to it with '/' separators. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).replace(/\\/g, '/'))
    .sort()
}

async function readJson(file: string): Promise<{ text: string; json: unknown }> {
  const text = await readFile(file, 'utf8')
  return { text, json: JSON.parse(text) as unknown }
}

test(
  'a Git-integrated factory: apply writes the Studio files without the password and warns about releases',
  async () => {
    const run = await session.run(
      { 'factory-name': gitFactory, 'export-path': 'adf/factory' },
      { workspace }
    )
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)

    const root = path.join(workspace, 'adf', 'factory')
    const linkedServiceFile = `linkedService/${ids.defaultLinkedServiceName}.json`
    const endpointFile = `managedVirtualNetwork/default/managedPrivateEndpoint/${ids.defaultEndpointName}.json`
    expect(await filesUnder(root)).toEqual(
      [linkedServiceFile, endpointFile, 'managedVirtualNetwork/default.json'].sort()
    )
    expect(JSON.parse(run.outputs['export-files'])).toEqual(
      [linkedServiceFile, endpointFile, 'managedVirtualNetwork/default.json'].map(
        (file) => `adf/factory/${file}`
      )
    )

    const fqdn = `${ids.serverName}.postgres.database.azure.com`
    const linkedService = await readJson(path.join(root, linkedServiceFile))
    expect(linkedService.text).toContain('\n\t"properties": {') // Studio's tab indentation
    expect(linkedService.json).toEqual({
      name: ids.defaultLinkedServiceName,
      type: 'Microsoft.DataFactory/factories/linkedservices',
      properties: {
        type: 'AzurePostgreSql',
        version: '2.0',
        annotations: [],
        typeProperties: {
          server: fqdn,
          port: 5432,
          database: ids.database,
          sslMode: 3,
          username: ids.serverRole,
          authenticationType: 'BasicAuth',
          password: { type: 'SecureString', value: '**********' }
        },
        connectVia: { referenceName: ids.managedRuntime, type: 'IntegrationRuntimeReference' }
      }
    })
    // What was exported is what the factory holds (its annotations aside: the fingerprint stays live).
    const live = factoryState(session.state(), gitFactory).linkedservices.find(
      (child) => child.name === ids.defaultLinkedServiceName
    )
    expect(live?.properties).toMatchObject({
      typeProperties: { server: fqdn, database: ids.database }
    })

    const endpoint = await readJson(path.join(root, endpointFile))
    expect(endpoint.json).toEqual({
      name: ids.defaultEndpointName,
      properties: { privateLinkResourceId: serverId(), groupId: 'postgresqlServer', fqdns: [fqdn] }
    })
    const vnet = await readJson(path.join(root, 'managedVirtualNetwork/default.json'))
    expect(vnet.json).toEqual({
      name: 'default',
      type: 'Microsoft.DataFactory/factories/managedvirtualnetworks',
      properties: {}
    })

    // No secret, and no fingerprint of it, in any file.
    for (const file of await filesUnder(root)) {
      const text = await readFile(path.join(root, file), 'utf8')
      expect(text).not.toContain(canaries.password)
      expect(text).not.toContain('password-scrypt')
    }

    const warning = run.warnings.join('\n')
    expect(warning).toMatch(/Git/)
    expect(warning).toMatch(/collaboration branch 'main'/)
    expect(run.summary).toMatch(/### Notes/)
    expect(run.summary).toMatch(/ARM template/)
    expect(run.summary).toMatch(/continuous-integration-delivery-sample-script/)
    expect(run.summary).toMatch(/password/i)
  },
  scenarioTimeoutMs
)

test(
  'a Git-integrated factory without export-path: warned, nothing written',
  async () => {
    const run = await session.run({ 'factory-name': gitFactory }, { workspace })
    expect(run.exitCode).toBe(0)
    expect(run.warnings.join('\n')).toMatch(/export-path/)
    expect(run.summary).toMatch(/delete/)
    expect(await filesUnder(workspace)).toEqual([])
    expect(run.outputs['export-files']).toBe('[]')
  },
  scenarioTimeoutMs
)

test(
  'a factory without Git: no warning about releases',
  async () => {
    const run = await session.run({}, { workspace })
    expect(run.exitCode).toBe(0)
    expect(run.warnings.filter((warning) => /Git|release/.test(warning))).toEqual([])
    expect(run.summary).not.toMatch(/ARM template/)
  },
  scenarioTimeoutMs
)

test(
  'export-path outside the workspace is refused before any request',
  async () => {
    const run = await session.run(
      { 'factory-name': gitFactory, 'export-path': '../outside' },
      { workspace }
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors.join('\n')).toMatch(/'export-path' is '\.\.\/outside'/)
    expect(run.requests).toEqual([])
    expect(existsSync(path.join(workspace, '..', 'outside'))).toBe(false)
  },
  scenarioTimeoutMs
)

test(
  'encryptedCredential never travels: a changed password is written without the stored encryptedCredential, in the staged copy, the real write and the export',
  async () => {
    const run = await session.run(
      { 'factory-name': storedCredentialFactory, 'export-path': 'adf/factory' },
      { workspace }
    )
    expect(run.errors).toEqual([])
    expect(run.exitCode).toBe(0)
    const linkedServiceWrites = run.requests.filter(
      (entry) => entry.method === 'PUT' && entry.path.includes('/linkedservices/')
    )
    // The staged copy, then the real one.
    expect(linkedServiceWrites).toHaveLength(2)
    for (const write of linkedServiceWrites) {
      expect(JSON.stringify(write.requestBody)).not.toContain('encryptedCredential')
    }
    expect(run.changes).toContainEqual(
      expect.objectContaining({ action: 'updated', resource: 'linked-service' })
    )
    const root = path.join(workspace, 'adf', 'factory')
    for (const file of await filesUnder(root)) {
      expect(await readFile(path.join(root, file), 'utf8')).not.toContain('encryptedCredential')
    }
    // Data Factory (the emulator, as recorded) encrypts the new secret itself.
    const live = factoryState(session.state(), storedCredentialFactory).linkedservices.find(
      (child) => child.name === ids.defaultLinkedServiceName
    )
    expect(live?.properties.typeProperties).toHaveProperty('encryptedCredential')
    expect(live?.properties.typeProperties?.encryptedCredential).not.toBe(
      recordedEncryptedCredential
    )
  },
  scenarioTimeoutMs
)
