import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  gitFiles,
  gitNotes,
  maskSecureStrings,
  writeGitFiles,
  type WrittenObjects
} from '../../src/steps/export.js'
import { fingerprintPrefix } from '../../src/steps/linked-service.js'
import { gitIntegrationOf } from '../../src/steps/preflight.js'

const serverId =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'

function written(properties: Record<string, unknown>): WrittenObjects {
  return {
    managedVirtualNetwork: 'default',
    endpoint: {
      name: 'pg-pg-demo',
      privateLinkResourceId: serverId,
      groupId: 'postgresqlServer',
      serverFqdn: 'pg-demo.postgres.database.azure.com'
    },
    linkedService: { name: 'PostgreSql_demo', properties }
  }
}

const passwordProperties = {
  type: 'AzurePostgreSql',
  version: '2.0',
  typeProperties: {
    server: 'pg-demo.postgres.database.azure.com',
    authenticationType: 'BasicAuth',
    password: { type: 'SecureString', value: 'hunter2-secret' }
  },
  annotations: ['team: data', `${fingerprintPrefix}c2FsdA==:aGFzaA==`]
}

describe('gitIntegrationOf', () => {
  it('reads a GitHub and an Azure DevOps repoConfiguration; undefined in live mode', () => {
    expect(
      gitIntegrationOf({
        type: 'FactoryGitHubConfiguration',
        accountName: 'octo-org',
        repositoryName: 'adf',
        collaborationBranch: 'main',
        rootFolder: '/factory'
      })
    ).toEqual({
      host: 'GitHub',
      repository: 'octo-org/adf',
      collaborationBranch: 'main',
      rootFolder: '/factory'
    })
    expect(
      gitIntegrationOf({
        type: 'FactoryVSTSConfiguration',
        accountName: 'contoso',
        projectName: 'data',
        repositoryName: 'adf',
        collaborationBranch: 'develop',
        rootFolder: ''
      })
    ).toMatchObject({ host: 'Azure DevOps', repository: 'contoso/data/adf', rootFolder: '/' })
    expect(gitIntegrationOf(undefined)).toBeUndefined()
  })
})

describe('gitFiles', () => {
  it('never exports an encryptedCredential (bound to the factory that made it)', () => {
    const { files } = gitFiles(
      written({
        ...passwordProperties,
        typeProperties: { ...passwordProperties.typeProperties, encryptedCredential: 'ew0KIC==' }
      })
    )
    for (const file of files) expect(file.content).not.toContain('encryptedCredential')
  })

  it("builds Studio's layout, tab-indented, without the password or its fingerprint", () => {
    const { files, masked } = gitFiles(written(passwordProperties))
    expect(files.map((file) => [file.path, file.ifAbsent ?? false])).toEqual([
      ['linkedService/PostgreSql_demo.json', false],
      ['managedVirtualNetwork/default/managedPrivateEndpoint/pg-pg-demo.json', false],
      ['managedVirtualNetwork/default.json', true]
    ])
    expect(masked).toEqual(['typeProperties.password'])
    const [linkedService, endpoint, vnet] = files
    expect(linkedService.content).not.toContain('hunter2-secret')
    expect(linkedService.content).toContain('\n\t"name": "PostgreSql_demo",\n')
    expect(JSON.parse(linkedService.content)).toEqual({
      name: 'PostgreSql_demo',
      type: 'Microsoft.DataFactory/factories/linkedservices',
      properties: {
        ...passwordProperties,
        typeProperties: {
          ...passwordProperties.typeProperties,
          password: { type: 'SecureString', value: '**********' }
        },
        annotations: ['team: data']
      }
    })
    expect(JSON.parse(endpoint.content)).toEqual({
      name: 'pg-pg-demo',
      properties: {
        privateLinkResourceId: serverId,
        groupId: 'postgresqlServer',
        fqdns: ['pg-demo.postgres.database.azure.com']
      }
    })
    expect(JSON.parse(vnet.content)).toEqual({
      name: 'default',
      type: 'Microsoft.DataFactory/factories/managedvirtualnetworks',
      properties: {}
    })
  })

  it('keeps a Key Vault reference as it is', () => {
    const secret = {
      type: 'AzureKeyVaultSecret',
      store: { referenceName: 'kv', type: 'LinkedServiceReference' },
      secretName: 'pg-password'
    }
    const { files, masked } = gitFiles(
      written({ type: 'AzurePostgreSql', typeProperties: { password: secret } })
    )
    expect(masked).toEqual([])
    expect(JSON.parse(files[0].content)).toMatchObject({
      properties: { typeProperties: { password: secret } }
    })
  })

  it('refuses a name that is no file name', () => {
    const objects = written(passwordProperties)
    objects.endpoint.name = '../pg'
    expect(() => gitFiles(objects)).toThrow(/managed private endpoint '\.\.\/pg'/)
  })
})

describe('maskSecureStrings', () => {
  it('masks SecureStrings at any depth, in arrays too', () => {
    const { value, masked } = maskSecureStrings({
      a: [{ b: { type: 'SecureString', value: 'x' } }],
      c: 1
    })
    expect(value).toEqual({ a: [{ b: { type: 'SecureString', value: '**********' } }], c: 1 })
    expect(masked).toEqual(['a[0].b'])
  })
})

describe('writeGitFiles', () => {
  let workspace: string
  beforeEach(async () => {
    workspace = await mkdtemp(path.join(os.tmpdir(), 'export-test-'))
  })
  afterEach(() => rm(workspace, { recursive: true, force: true }))

  it('writes the files, keeping an existing managed VNet file', async () => {
    const { files } = gitFiles(written(passwordProperties))
    await mkdir(path.join(workspace, 'adf', 'managedVirtualNetwork'), { recursive: true })
    await writeFile(path.join(workspace, 'adf', 'managedVirtualNetwork', 'default.json'), 'mine')
    const paths = await writeGitFiles(workspace, 'adf', files)
    expect(paths).toEqual([
      'adf/linkedService/PostgreSql_demo.json',
      'adf/managedVirtualNetwork/default/managedPrivateEndpoint/pg-pg-demo.json'
    ])
    expect(await readFile(path.join(workspace, paths[0]), 'utf8')).toBe(files[0].content)
    expect(
      await readFile(path.join(workspace, 'adf/managedVirtualNetwork/default.json'), 'utf8')
    ).toBe('mine')
  })

  it('refuses a folder that is a symbolic link out of the workspace', async () => {
    const outside = await mkdtemp(path.join(os.tmpdir(), 'export-outside-'))
    try {
      await symlink(outside, path.join(workspace, 'adf'))
      await expect(
        writeGitFiles(workspace, 'adf', gitFiles(written(passwordProperties)).files)
      ).rejects.toThrow(/Could not write 'adf\/linkedService\/PostgreSql_demo.json'.*symbolic link/)
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })
})

describe('gitNotes', () => {
  const git = {
    host: 'GitHub' as const,
    repository: 'octo-org/adf',
    collaborationBranch: 'main',
    rootFolder: '/'
  }

  it('says nothing for a factory in live mode', () => {
    expect(gitNotes(undefined, 'adf-demo', { exportPath: 'adf', masked: ['x'] })).toEqual([])
  })

  it('warns about releases and says how to keep the objects, with or without export-path', () => {
    const [risk, keep] = gitNotes(git, 'adf-demo', { masked: [] })
    expect(risk).toMatch(/^Data factory 'adf-demo' is Git-integrated/)
    expect(risk).toMatch(/continuous-integration-delivery-sample-script.*deletes linked services/)
    expect(keep).toMatch(/set export-path/)
    const notes = gitNotes(git, 'adf-demo', {
      exportPath: 'adf',
      masked: ['typeProperties.password']
    })
    expect(notes[1]).toMatch(/under 'adf'.*collaboration branch 'main'/)
    expect(notes[2]).toMatch(/typeProperties.password is the placeholder.*ARM template parameter/)
  })
})
