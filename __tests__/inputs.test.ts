import { readFileSync } from 'node:fs'
import { describe, expect, it } from '@jest/globals'
import { parse as parseYaml } from 'yaml'
import { inputDefaults, readSettings } from '../src/inputs.js'
import { createSecretMasker } from '../src/io.js'
import { inputProblems, reader, settingsFrom, validInputs } from './fixtures/inputs.js'

const signInIds = {
  'client-id': '3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c',
  'tenant-id': '5f1c7e2a-3b4d-4c6e-8f90-1a2b3c4d5e6f'
}

describe('readSettings', () => {
  it('returns typed settings with defaults and derived names', () => {
    const settings = settingsFrom()
    expect(settings.mode).toBe('apply')
    expect(settings.managedVirtualNetwork).toBe('default')
    expect(settings.integrationRuntime).toBe('AutoResolveIntegrationRuntime')
    expect(settings.endpointName).toBe('pg-pg-demo')
    expect(settings.linkedService).toMatchObject({
      name: 'PostgreSql_pg-demo_appdb',
      port: 5432,
      sslMode: 'require',
      credential: { kind: 'password', password: 'Sup3r-secret!' }
    })
    expect(settings.server.id).toBe(
      '/subscriptions/0b9e4f3a-7c21-4d58-a6e3-2f8b1c9d0e47/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-demo'
    )
    expect(settings.approval).toEqual({ mode: 'auto', timeoutMs: 15 * 60_000 })
    expect(settings.connectionTest).toEqual({
      enabled: true,
      query: 'SELECT 1',
      timeoutMs: 10 * 60_000
    })
    expect(settings.pollIntervalMs).toBe(10_000)
    expect(settings.timeoutMs).toBe(45 * 60_000)
    expect(settings.signIn.cloud).toMatchObject({
      resourceManagerEndpoint: 'https://management.azure.com',
      oidcAudience: 'api://AzureADTokenExchange',
      customAuthorityHost: false
    })
  })

  it('masks the password and client secret before reading any other input', () => {
    const calls: string[] = []
    const masker = createSecretMasker((secret) => calls.push(`mask:${secret}`))
    readSettings(
      reader({ ...validInputs, 'client-secret': 'cs-value', ...signInIds }, calls),
      masker
    )
    const firstOther = calls.findIndex(
      (call) => call.startsWith('get:') && !/password|client-secret/.test(call)
    )
    expect(calls.indexOf('mask:Sup3r-secret!')).toBeGreaterThan(-1)
    expect(calls.indexOf('mask:Sup3r-secret!')).toBeLessThan(firstOther)
    expect(calls.indexOf('mask:cs-value')).toBeLessThan(firstOther)
  })

  it.each([
    ['a password the identity does not use', { 'linked-service-auth': 'system-assigned-identity' }],
    ['a password a service principal does not use', { 'linked-service-auth': 'service-principal' }],
    [
      'a password beside the Key Vault inputs',
      { 'password-key-vault-linked-service': 'kv', 'password-secret-name': 'pw' }
    ],
    ['a client secret without client-id and tenant-id', { 'client-secret': 'cs-Secret-value' }]
  ])('names the input but never echoes the secret for %s', (_, overrides) => {
    const found = inputProblems(overrides)
    const all = found.join('\n')
    expect(all).toMatch(/'password'|'client-id'/)
    expect(all).not.toContain(validInputs.password)
    expect(all).not.toContain('cs-Secret-value')
  })

  it('lists every problem at once, naming the input and the rule', () => {
    const found = inputProblems({
      'subscription-id': 'nope',
      'factory-name': 'bad_name',
      port: '70000'
    })
    expect(found).toHaveLength(3)
    expect(found[0]).toBe(
      "'subscription-id' is 'nope': must be a GUID such as 00000000-0000-0000-0000-000000000000."
    )
    expect(found[1]).toMatch(/'factory-name' is 'bad_name': must be .*single '-'/)
    expect(found[2]).toMatch(/'port' is '70000': must be a whole number from 1 to 65535/)
  })

  it.each([
    ['subscription-id', /'subscription-id' is missing/],
    ['resource-group', /'resource-group' is missing/],
    ['factory-name', /'factory-name' is missing/],
    ['database', /'database' is missing/],
    ['username', /'username' is missing/],
    ['server-name', /give 'server-name' or 'server-id'/],
    ['password', /'password' is missing/]
  ])('requires %s', (name, message) => {
    expect(inputProblems({ [name]: '' })).toEqual(
      expect.arrayContaining([expect.stringMatching(message)])
    )
  })

  it.each(['disable', 'allow', 'prefer'])('refuses ssl-mode %s as unencrypted', (mode) => {
    expect(inputProblems({ 'ssl-mode': mode })[0]).toMatch(
      /refused: this action makes an encrypted private connection/
    )
  })

  it.each([
    ['verify-ca', 'verify-ca'],
    ['VERIFY-FULL', 'verify-full']
  ])('accepts ssl-mode %s', (given, expected) => {
    expect(settingsFrom({ 'ssl-mode': given }).linkedService.sslMode).toBe(expected)
  })

  it('rejects endpoint names outside the Data Factory rule', () => {
    expect(inputProblems({ 'endpoint-name': '-bad' })[0]).toMatch(
      /'endpoint-name' is '-bad': must be letters, digits/
    )
    expect(inputProblems({ 'endpoint-name': 'a'.repeat(81) })[0]).toMatch(/1–80 characters/)
  })

  it('parses server-id, including another subscription', () => {
    const settings = settingsFrom({
      'server-name': '',
      'server-id':
        '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-other'
    })
    expect(settings.server).toMatchObject({
      subscriptionId: '11111111-2222-3333-4444-555555555555',
      resourceGroup: 'rg-db',
      name: 'pg-other'
    })
    expect(settings.factory.subscriptionId).toBe(validInputs['subscription-id'])
  })

  it('refuses a server-id that is not a flexible server, and both server inputs together', () => {
    expect(
      inputProblems({
        'server-name': '',
        'server-id': '/subscriptions/x/resourceGroups/y/providers/Microsoft.Sql/servers/z'
      })[0]
    ).toMatch(/'server-id' is .*: must be a flexible server id/)
    expect(
      inputProblems({
        'server-id':
          '/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-other'
      })[0]
    ).toMatch(/both given; give exactly one/)
  })

  it('takes the password from Key Vault, refusing both forms at once', () => {
    const kv = {
      password: '',
      'password-key-vault-linked-service': 'kv',
      'password-secret-name': 'pg-pass'
    }
    expect(settingsFrom(kv).linkedService.credential).toEqual({
      kind: 'key-vault-password',
      secret: { store: 'kv', secretName: 'pg-pass', secretVersion: undefined }
    })
    expect(inputProblems({ ...kv, password: 'x' })[0]).toMatch(
      /'password' and the Key Vault inputs .* both given/
    )
    expect(inputProblems({ ...kv, 'password-secret-name': '' })[0]).toMatch(
      /'password-secret-name' is missing/
    )
  })

  it('validates the linked-service-auth combinations', () => {
    expect(inputProblems({ 'linked-service-auth': 'system-assigned-identity' })[0]).toMatch(
      /'password': not used with linked-service-auth 'system-assigned-identity'/
    )
    expect(
      settingsFrom({
        'linked-service-auth': 'system-assigned-identity',
        password: '',
        username: ''
      }).linkedService.credential
    ).toEqual({
      kind: 'system-assigned-identity'
    })
    const sp = {
      'linked-service-auth': 'service-principal',
      password: '',
      'tenant-id': 'contoso.onmicrosoft.com',
      'service-principal-id': signInIds['client-id'],
      'password-key-vault-linked-service': 'kv',
      'service-principal-key-secret-name': 'sp-key'
    }
    expect(settingsFrom(sp).linkedService.credential).toEqual({
      kind: 'service-principal',
      servicePrincipalId: signInIds['client-id'],
      tenantId: 'contoso.onmicrosoft.com',
      key: { store: 'kv', secretName: 'sp-key', secretVersion: undefined }
    })
    expect(inputProblems({ ...sp, 'service-principal-id': '' })[0]).toMatch(
      /'service-principal-id' is missing/
    )
    expect(inputProblems({ 'service-principal-id': signInIds['client-id'] })[0]).toMatch(
      /only used with linked-service-auth 'service-principal'/
    )
  })

  it('needs no database credential to destroy', () => {
    expect(settingsFrom({ mode: 'destroy', password: '', username: '' })).toMatchObject({
      mode: 'destroy',
      linkedService: { credential: { kind: 'not-needed' } }
    })
  })

  it('checks the sign-in inputs the chosen auth needs', () => {
    expect(inputProblems({ auth: 'oidc' })).toEqual([
      "'client-id' is missing: auth 'oidc' needs it.",
      "'tenant-id' is missing: auth 'oidc' needs it."
    ])
    expect(inputProblems({ 'client-secret': 's' })[0]).toMatch(
      /'client-id' is missing: client-secret is given/
    )
    expect(inputProblems({ auth: 'password' })[0]).toMatch(
      /'auth' is 'password': allowed: auto, oidc/
    )
  })

  it('derives cloud endpoints and audience from environment, with overrides', () => {
    expect(settingsFrom({ environment: 'AzureUSGovernment' }).signIn.cloud).toMatchObject({
      resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
      authorityHost: 'https://login.microsoftonline.us',
      oidcAudience: 'api://AzureADTokenExchangeUSGov'
    })
    expect(settingsFrom({ environment: 'AzureChinaCloud' }).signIn.cloud.oidcAudience).toBe(
      'api://AzureADTokenExchangeChina'
    )
    const custom = settingsFrom({
      'resource-manager-endpoint': 'https://127.0.0.1:8443/',
      'authority-host': 'https://login.example',
      audience: 'aud'
    })
    expect(custom.signIn.cloud).toMatchObject({
      resourceManagerEndpoint: 'https://127.0.0.1:8443',
      authorityHost: 'https://login.example',
      customAuthorityHost: true,
      oidcAudience: 'aud'
    })
    expect(inputProblems({ 'resource-manager-endpoint': 'http://plain' })[0]).toMatch(
      /must be an https:\/\/ URL; use 'https:\/\/plain'/
    )
  })

  it('validates durations and booleans', () => {
    expect(
      settingsFrom({ 'poll-interval': '500ms', 'approval-timeout': '90', timeout: '1h' })
    ).toMatchObject({
      pollIntervalMs: 500,
      approval: { timeoutMs: 90_000 },
      timeoutMs: 3_600_000
    })
    expect(inputProblems({ 'poll-interval': 'soon' })[0]).toMatch(
      /'poll-interval' is 'soon': must be a duration/
    )
    expect(inputProblems({ 'test-connection': 'yes' })[0]).toMatch(
      /'test-connection' is 'yes': allowed: true or false/
    )
  })
})

describe('inputDefaults', () => {
  it('agrees with the defaults in action.yml', () => {
    const action = parseYaml(readFileSync('action.yml', 'utf8')) as {
      inputs: Record<string, { default?: unknown }>
    }
    const declared = Object.fromEntries(
      Object.entries(action.inputs)
        // An expression (`${{ github.token }}`) is the runner's to evaluate, not a default the action applies.
        .filter(([, input]) => input.default !== undefined && input.default !== '')
        .filter(([, input]) => !String(input.default).includes('${{'))
        .map(([name, input]) => [name, String(input.default)])
    )
    expect(inputDefaults).toEqual(declared)
  })
})
