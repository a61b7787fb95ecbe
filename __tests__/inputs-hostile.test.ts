// Hostile values for every input of action.yml: each invalid one is refused by readSettings (so no
// request is ever sent) with problems naming only that input, shown escaped; each legal one parses.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseYaml } from 'yaml'
import { inert } from '../src/escape.js'
import { createActionIO } from '../src/io.js'
import { run } from '../src/main.js'
import type { Settings } from '../src/settings.js'
import { inputProblems, settingsFrom, validInputs } from './fixtures/inputs.js'

const actionInputs = Object.keys(
  (parseYaml(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }).inputs
)

const guid = '3c8d2e1f-6a5b-4f7e-9d0c-8b1a2f3e4d5c'
const version = '0123456789abcdef0123456789abcdef'
const serverId = `/subscriptions/${guid}/resourceGroups/rg-db/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg-other`

/** The other inputs an input needs to be read at all (Key Vault, service principal, server-id). */
const keyVault = {
  password: '',
  'password-key-vault-linked-service': 'kv',
  'password-secret-name': 'pg-pass'
}
const servicePrincipal = {
  password: '',
  'linked-service-auth': 'service-principal',
  'service-principal-id': guid,
  'tenant-id': guid,
  'password-key-vault-linked-service': 'kv',
  'service-principal-key-secret-name': 'sp-key'
}
const contextOf: Record<string, Record<string, string>> = {
  'password-key-vault-linked-service': keyVault,
  'password-secret-name': keyVault,
  'password-secret-version': keyVault,
  'service-principal-id': servicePrincipal,
  'service-principal-tenant-id': servicePrincipal,
  'service-principal-key-secret-name': servicePrincipal,
  'service-principal-key-secret-version': servicePrincipal,
  'server-id': { 'server-name': '' }
}

/** A valid value per input, the base of the look-alike cases. */
const validValue: Record<string, string> = {
  'client-id': guid,
  'tenant-id': guid,
  auth: 'azure-cli',
  environment: 'AzureCloud',
  'resource-manager-endpoint': 'https://management.example.com',
  'authority-host': 'https://login.example.com',
  audience: 'api://AzureADTokenExchange',
  'subscription-id': guid,
  'resource-group': 'rg-data',
  'factory-name': 'adf-demo',
  'server-name': 'pg-demo',
  'server-id': serverId,
  'server-resource-group': 'rg-db',
  'managed-virtual-network': 'default',
  'integration-runtime': 'AutoResolveIntegrationRuntime',
  'endpoint-name': 'pg-endpoint',
  approval: 'wait',
  'approval-timeout': '15m',
  'linked-service-name': 'PostgreSql_demo',
  database: 'appdb',
  username: 'adfuser',
  port: '6432',
  'password-key-vault-linked-service': 'kv-store',
  'password-secret-name': 'pg-password',
  'password-secret-version': version,
  'ssl-mode': 'verify-full',
  'linked-service-auth': 'password',
  'service-principal-id': guid,
  'service-principal-tenant-id': 'contoso.onmicrosoft.com',
  'service-principal-key-secret-name': 'sp-key',
  'service-principal-key-secret-version': version,
  'test-connection': 'false',
  'test-query': 'SELECT 1',
  'test-timeout': '10m',
  mode: 'plan',
  'on-drift': 'recreate',
  force: 'true',
  'fail-on-drift': 'false',
  'poll-interval': '5s',
  timeout: '1h',
  'export-path': 'adf/factory'
}

const cyrillic: Record<string, string> = { a: 'а', e: 'е', o: 'о', c: 'с', p: 'р' }
/** The value with its first a/e/o/c/p swapped for the Cyrillic look-alike. */
function lookAlike(value: string): string {
  const swapped = value.replace(/[aeocp]/, (letter) => cyrillic[letter])
  return swapped === value ? `а${value}` : swapped
}

/** Hostile values in general; which of them an input refuses depends on its rule. */
const hostile = {
  traversal: '../x',
  slash: 'a/b',
  query: 'x?y',
  fragment: 'x#y',
  percent: 'x%2Fy',
  nul: 'x\u0000y',
  newline: 'x\ny',
  command: 'x\r\n::warning::injected',
  bidi: 'x\u202ey',
  zeroWidth: 'x\u200by',
  long: 'a'.repeat(300),
  legacyCommand: '##[add-mask]x'
} as const
type HostileKind = keyof typeof hostile | 'lookAlike'
const everyKind: HostileKind[] = [...(Object.keys(hostile) as HostileKind[]), 'lookAlike']
const invisibleKinds: HostileKind[] = ['nul', 'newline', 'command', 'bidi', 'zeroWidth']

/** Which hostile kinds each input refuses (the rest parse, tested below as legal). */
const refusedKinds: Record<string, HostileKind[]> = {
  ...Object.fromEntries(
    [
      'client-id',
      'tenant-id',
      'subscription-id',
      'factory-name',
      'server-name',
      'server-id',
      'managed-virtual-network',
      'integration-runtime',
      'endpoint-name',
      'password-secret-name',
      'password-secret-version',
      'service-principal-id',
      'service-principal-tenant-id',
      'service-principal-key-secret-name',
      'service-principal-key-secret-version',
      'auth',
      'environment',
      'approval',
      'ssl-mode',
      'linked-service-auth',
      'mode',
      'on-drift',
      'test-connection',
      'force',
      'fail-on-drift',
      'approval-timeout',
      'test-timeout',
      'poll-interval',
      'timeout',
      'port',
      'resource-manager-endpoint',
      'authority-host'
    ].map((name) => [name, everyKind])
  ),
  // Azure allows any letter in a resource group name, and Data Factory in an entity name.
  'resource-group': everyKind.filter((kind) => kind !== 'lookAlike'),
  'server-resource-group': everyKind.filter((kind) => kind !== 'lookAlike'),
  'linked-service-name': everyKind.filter((kind) => kind !== 'lookAlike'),
  'password-key-vault-linked-service': everyKind.filter((kind) => kind !== 'lookAlike'),
  // PostgreSQL names may hold any character but control ones, up to 63 bytes.
  database: [...invisibleKinds, 'long'],
  username: [...invisibleKinds, 'long'],
  audience: [...invisibleKinds, 'lookAlike'],
  'test-query': ['nul', 'bidi', 'zeroWidth'],
  // A folder in the workspace: any letter, but nothing outside it, invisible or Windows-refused.
  'export-path': [...invisibleKinds, 'traversal', 'query', 'long']
}

/** Specific hostile values per input, beyond the general ones. */
const specificInvalid: [input: string, value: string, message: RegExp][] = [
  ['server-name', 'pg-demo.postgres.database.azure.com', /host name: use 'pg-demo'/],
  ['server-name', 'PG-Demo.postgres.database.usgovcloudapi.net', /use 'pg-demo'/],
  ['server-name', serverId, /give it as 'server-id'/],
  ['server-name', 'PG-DEMO', /lowercase: use 'pg-demo'/],
  ['server-name', '-pg', /lowercase letters/],
  ['server-name', 'pg', /3–63 characters long \(it has 2\)/],
  ['server-id', 'pg-demo', /give it as 'server-name'/],
  ['server-id', `${serverId}/databases/appdb`, /inside a server: use '\/subscriptions\//],
  ['server-id', serverId.replace(guid, 'not-a-guid'), /part 'not-a-guid' must be a GUID/],
  ['server-id', serverId.replace('flexibleServers', 'servers'), /flexible server id/],
  ['server-id', serverId.replace('pg-other', 'PG_Other'), /part 'PG_Other'/],
  ['subscription-id', `{${guid}}`, new RegExp(`use '${guid}'`)],
  ['subscription-id', guid.slice(0, 35), /must be a GUID/],
  ['client-id', 'my-app', /must be a GUID such as/],
  ['tenant-id', 'common', /tenant id \(a GUID\) or one of its domains/],
  ['tenant-id', 'contoso', /tenant id/],
  [
    'factory-name',
    '/subscriptions/x/resourceGroups/y/providers/Microsoft.DataFactory/factories/adf-1',
    /use 'adf-1'/
  ],
  ['factory-name', 'adf--demo', /single '-'/],
  ['factory-name', 'ab', /3–63 characters/],
  ['resource-group', 'rg.', /not ending with '\.'/],
  ['resource-group', 'rg data', /must be letters/],
  ['endpoint-name', 'pg-', /not ending with '-'/],
  ['endpoint-name', 'a'.repeat(81), /1–80 characters long \(it has 81\)/],
  ['integration-runtime', 'IR_1', /letters and digits/],
  ['managed-virtual-network', '-vnet', /not starting or ending with '-'/],
  ['linked-service-name', 'my.service', /none of/],
  ['linked-service-name', 'x'.repeat(261), /1–260 characters/],
  ['password-secret-name', '../pg-password', /use 'pg-password'/],
  ['password-secret-name', 'pg_password', /use 'pgpassword'/],
  [
    'password-secret-name',
    'https://kv.vault.azure.net/secrets/pg-password/' + version,
    /use 'pg-password' and give '0123/
  ],
  ['password-secret-name', 'x'.repeat(128), /1–127 characters/],
  ['password-secret-version', 'latest', /32 hexadecimal digits/],
  ['password-secret-version', version.slice(1), /32 hexadecimal digits/],
  [
    'password-secret-version',
    'https://kv.vault.azure.net/secrets/pg-password/' + version,
    new RegExp(`use '${version}'`)
  ],
  ['database', 'é'.repeat(32), /1–63 bytes \(UTF-8\) long \(it has 64\)/],
  ['username', 'u'.repeat(64), /it has 64/],
  ['approval-timeout', '0', /above zero/],
  ['approval-timeout', '-5s', /duration/],
  ['test-timeout', '5d', /such as 500ms/],
  ['poll-interval', '1e3', /duration/],
  ['poll-interval', 'Infinity', /duration/],
  ['timeout', '99999999h', /at most 5 days/],
  ['timeout', '121h', /at most 5 days/],
  ['timeout', '432000001ms', /at most 5 days/],
  ['timeout', '10 minutes', /duration/],
  ['test-connection', 'yes', /allowed: true or false/],
  ['test-connection', '1', /allowed: true or false/],
  ['force', 'tRuE', /allowed: true or false/],
  ['force', 'on', /allowed: true or false/],
  ['force', 'y', /allowed/],
  ['fail-on-drift', 'no', /allowed: true or false/],
  ['port', '0', /1 to 65535/],
  ['port', '65536', /1 to 65535/],
  ['port', '-1', /whole number/],
  ['port', '5432.0', /whole number/],
  ['port', '0x1538', /whole number/],
  ['port', '٥٤٣٢', /not ASCII/],
  ['port', '99999999999999999999999', /1 to 65535/],
  ['mode', 'apply;destroy', /allowed: apply, plan, destroy/],
  ['ssl-mode', 'disable', /sslMode 0 is refused/],
  ['ssl-mode', 'Prefer', /sslMode 2 is refused/],
  ['auth', 'password', /allowed: auto, oidc/],
  ['environment', 'AzureGermanCloud', /allowed: AzureCloud/],
  [
    'resource-manager-endpoint',
    'http://management.azure.com',
    /use 'https:\/\/management.azure.com'/
  ],
  ['resource-manager-endpoint', 'https://user:pw@management.azure.com', /user name or password/],
  ['resource-manager-endpoint', 'https://management.azure.com/?x=1', /query/],
  ['resource-manager-endpoint', 'https://management.azure.com/#x', /fragment/],
  ['resource-manager-endpoint', 'https://management.azure.com/%2e%2e/', /percent/],
  [
    'resource-manager-endpoint',
    'https://mаnagement.azure.com',
    /'а' \(\\u0430\), which is not ASCII/
  ],
  ['resource-manager-endpoint', 'file:///etc/passwd', /https:\/\/ URL/],
  ['resource-manager-endpoint', 'javascript:alert(1)', /https:\/\/ URL/],
  ['resource-manager-endpoint', 'https://', /https:\/\/ URL/],
  ['authority-host', 'https://login.example.com x', /contains a space/],
  ['authority-host', 'login.microsoftonline.com', /https:\/\/ URL/],
  ['audience', 'api://Azure AD', /without spaces/],
  ['audience', 'a'.repeat(601), /1–600 characters/],
  ['test-query', 'SELECT 1\u0007', /a control character/],
  ['export-path', '/home/runner/adf', /relative to the workspace/],
  ['export-path', 'C:/adf', /relative to the workspace/],
  ['export-path', 'adf\\factory', /separate folders with '\/'/],
  ['export-path', 'adf/../../outside', /remove '\.\.'/],
  ['export-path', 'adf/a:b', /Windows refuses/]
]

/** Inputs that conflict: each problem names one of `inputs`. */
const conflicts: [label: string, overrides: Record<string, string>, inputs: string[]][] = [
  ['server-name with server-id', { 'server-id': serverId }, ['server-name', 'server-id']],
  [
    'server-resource-group with server-id',
    { 'server-name': '', 'server-id': serverId, 'server-resource-group': 'rg' },
    ['server-resource-group']
  ],
  ['password with Key Vault', { ...keyVault, password: 'x' }, ['password']],
  [
    'password with the factory identity',
    { 'linked-service-auth': 'system-assigned-identity' },
    ['password']
  ],
  [
    'a service principal input with password auth',
    { 'service-principal-id': guid },
    ['service-principal-id']
  ],
  [
    'client-secret auth without the secret',
    { auth: 'client-secret', ...idsFor() },
    ['client-secret']
  ],
  ['oidc without client-id and tenant-id', { auth: 'oidc' }, ['client-id', 'tenant-id']],
  [
    'a Key Vault version without its name',
    { password: '', 'password-secret-version': version },
    ['password-key-vault-linked-service', 'password-secret-name']
  ]
]

function idsFor(): Record<string, string> {
  return { 'client-id': guid, 'tenant-id': guid }
}

const invalidCases: [input: string, value: string, message: RegExp | undefined][] = [
  ...Object.entries(refusedKinds).flatMap(([input, kinds]) =>
    kinds.map((kind): [string, string, RegExp | undefined] => [
      input,
      kind === 'lookAlike' ? lookAlike(validValue[input]) : hostile[kind],
      undefined // a row as long as the others, so Jest passes no done callback
    ])
  ),
  ...specificInvalid,
  // A token is secret, so its problem never shows it.
  ...['ghs_a b', 'ghs_a\n::warning::x', 'ghs_\u0000', '\tghs_tab\u202e'].map(
    (value): [string, string, RegExp | undefined] => ['github-token', value, /is not a token/]
  )
]

/** Characters that must never appear raw in a problem (they would break or fake a log line). */
const unsafe = /[\p{Cc}\u2028\u2029\u200b\u202e]|##\[/u

describe('hostile inputs', () => {
  it('cover every input of action.yml, in at least 150 cases', () => {
    const covered = new Set([
      ...invalidCases.map(([input]) => input),
      ...legalCases.map(([input]) => input)
    ])
    expect(actionInputs.filter((input) => !covered.has(input))).toEqual([])
    expect(invalidCases.length + legalCases.length + conflicts.length).toBeGreaterThanOrEqual(150)
  })

  it.each(invalidCases)('refuses %s = %j', (input, value, message) => {
    const problems = inputProblems({ ...contextOf[input], [input]: value })
    // Only the input set is reported: nothing derived from it, nothing else.
    expect(problems.filter((problem) => !problem.startsWith(`'${input}' is `))).toEqual([])
    expect(problems.length).toBeGreaterThan(0)
    for (const problem of problems) {
      expect(problem).not.toMatch(unsafe)
      expect(inert(problem)).toBe(problem)
    }
    if (message) expect(problems.join('\n')).toMatch(message)
  })

  it.each(conflicts)('refuses %s, naming the inputs', (_, overrides, inputs) => {
    const problems = inputProblems(overrides)
    for (const input of inputs) expect(problems.join('\n')).toContain(`'${input}'`)
  })
})

/** Passwords that must reach the linked service exactly as given, and be masked first. */
const passwords = [
  `it's "quoted" \`back\` \\slash`,
  'line one\nline two',
  '  padded both ends  ',
  'ünïcødé-密码-пароль-🔑',
  '::warning::not a command',
  '##[add-mask]x',
  'p'.repeat(300),
  '\u0000\u202e\u200b'
]

/** Legal values, some hostile-looking, and what they must parse to. */
const legalCases: [input: string, value: string, check: (settings: Settings) => unknown][] = [
  ...Object.entries(validValue).map(
    ([input, value]): [string, string, (settings: Settings) => unknown] => [
      input,
      value,
      (settings) => expect(settings).toBeDefined()
    ]
  ),
  ['resource-group', lookAlike('rg-data'), (s) => expect(s.factory.resourceGroup).toBe('rg-dаta')],
  ['resource-group', 'Rg_(prod).1', (s) => expect(s.factory.resourceGroup).toBe('Rg_(prod).1')],
  ['linked-service-name', 'LS_Пример', (s) => expect(s.linkedService.name).toBe('LS_Пример')],
  ['database', '../x?#%2F', (s) => expect(s.linkedService.database).toBe('../x?#%2F')],
  ['database', 'é'.repeat(31), (s) => expect(s.linkedService.database).toHaveLength(31)],
  ['username', 'my dba group', (s) => expect(s.linkedService.username).toBe('my dba group')],
  ['username', '##[add-mask]x', (s) => expect(s.linkedService.username).toBe('##[add-mask]x')],
  ['server-name', '  pg-demo  ', (s) => expect(s.server.name).toBe('pg-demo')],
  ['server-name', 'a'.repeat(63), (s) => expect(s.endpointName).toBe(`pg-${'a'.repeat(63)}`)],
  ['server-id', serverId.toLowerCase(), (s) => expect(s.server.name).toBe('pg-other')],
  ['server-id', `${serverId}/`, (s) => expect(s.server.id).toBe(serverId)],
  [
    'tenant-id',
    'contoso.onmicrosoft.com',
    (s) => expect(s.signIn.tenantId).toBe('contoso.onmicrosoft.com')
  ],
  [
    'subscription-id',
    guid.toUpperCase(),
    (s) => expect(s.factory.subscriptionId).toBe(guid.toUpperCase())
  ],
  [
    'password-secret-version',
    version.toUpperCase(),
    (s) =>
      expect(s.linkedService.credential).toMatchObject({
        secret: { secretVersion: version.toUpperCase() }
      })
  ],
  [
    'password-secret-name',
    'a'.repeat(127),
    (s) =>
      expect(s.linkedService.credential).toMatchObject({ secret: { secretName: 'a'.repeat(127) } })
  ],
  [
    'resource-manager-endpoint',
    'https://Management.Example.com:8443/',
    (s) =>
      expect(s.signIn.cloud.resourceManagerEndpoint).toBe('https://management.example.com:8443')
  ],
  [
    'resource-manager-endpoint',
    'https://h.example/a/../b',
    (s) => expect(s.signIn.cloud.resourceManagerEndpoint).toBe('https://h.example/b')
  ],
  [
    'authority-host',
    'https://login.example.com/adfs/',
    (s) => expect(s.signIn.cloud.authorityHost).toBe('https://login.example.com/adfs')
  ],
  [
    'audience',
    'api://AzureADTokenExchange/../x?#',
    (s) => expect(s.signIn.cloud.oidcAudience).toBe('api://AzureADTokenExchange/../x?#')
  ],
  [
    'test-query',
    "SELECT '::warning::x'\r\n  , 'é' AS \"q\"\t-- ##[",
    (s) => expect(s.connectionTest.query).toContain('##[')
  ],
  ['test-query', hostile.long, (s) => expect(s.connectionTest.query).toHaveLength(300)],
  ['test-connection', 'True', (s) => expect(s.connectionTest.enabled).toBe(true)],
  ['test-connection', 'TRUE', (s) => expect(s.connectionTest.enabled).toBe(true)],
  ['force', 'False', (s) => expect(s.force).toBe(false)],
  ['force', 'FALSE', (s) => expect(s.force).toBe(false)],
  ['mode', 'PLAN', (s) => expect(s.mode).toBe('plan')],
  ['mode', 'Check', (s) => expect(s.mode).toBe('check')],
  ['fail-on-drift', 'False', (s) => expect(s.failOnDrift).toBe(false)],
  [
    'environment',
    'azureusgovernment',
    (s) => expect(s.signIn.cloud.name).toBe('AzureUSGovernment')
  ],
  ['port', '1', (s) => expect(s.linkedService.port).toBe(1)],
  ['port', '65535', (s) => expect(s.linkedService.port).toBe(65535)],
  ['timeout', '120h', (s) => expect(s.timeoutMs).toBe(432_000_000)],
  ['poll-interval', '1.5', (s) => expect(s.pollIntervalMs).toBe(1500)],
  ['approval-timeout', ' 2M ', (s) => expect(s.approval.timeoutMs).toBe(120_000)],
  [
    'github-token',
    'ghs_16C7e42F292c6912E7710c838347Ae178B4a',
    (s) => expect(s.githubToken).toMatch(/^ghs_/)
  ],
  ['github-token', '', (s) => expect(s.githubToken).toBeUndefined()],
  [
    'client-secret',
    'it\'s "quoted"\n::warning::x ##[ é',
    (s) => expect(s.signIn.clientSecret).toContain('\n::warning::x')
  ],
  // The general hostile values an input's rule allows: kept exactly (as trimmed by core).
  ...Object.entries(refusedKinds).flatMap(([input, refused]) =>
    everyKind
      .filter((kind) => !refused.includes(kind))
      .map((kind): [string, string, (settings: Settings) => unknown] => {
        const value = kind === 'lookAlike' ? lookAlike(validValue[input]) : hostile[kind]
        return [
          input,
          value,
          (s) => expect(JSON.stringify(s)).toContain(JSON.stringify(value.trim()).slice(1, -1))
        ]
      })
  ),
  ...passwords.map((password): [string, string, (settings: Settings) => unknown] => [
    'password',
    password,
    (s) => expect(s.linkedService.credential).toEqual({ kind: 'password', password })
  ]),
  ['export-path', './adf//factory/', (s) => expect(s.exportPath).toBe('adf/factory')],
  ['export-path', '.', (s) => expect(s.exportPath).toBe('.')],
  ['export-path', 'fábrica/##[x]', (s) => expect(s.exportPath).toBe('fábrica/##[x]')],
  ['export-path', 'adf/x..y', (s) => expect(s.exportPath).toBe('adf/x..y')]
]

describe('legal inputs', () => {
  it.each(legalCases)('parses %s = %j', (input, value, check) => {
    const overrides = {
      ...contextOf[input],
      ...(input === 'client-secret' ? idsFor() : {}),
      [input]: value
    }
    check(settingsFrom(overrides))
  })

  it.each(passwords)('keeps and masks the password %j', (password) => {
    const masked: string[] = []
    const settings = settingsFrom({ password }, masked)
    expect(settings.linkedService.credential).toEqual({ kind: 'password', password })
    expect(masked[0]).toBe(password)
    // The runner masks a multi-line secret line by line, so each line is masked too.
    for (const line of password.split('\n').filter((part) => part.trim()))
      expect(masked).toContain(line)
  })
})

describe('the log of a run with hostile inputs', () => {
  const inputEnv = (inputs: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value])
    )
  let dir = ''
  let written: string[] = []
  let restore: () => void = () => undefined

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'inputs-hostile-'))
    writeFileSync(path.join(dir, 'output'), '')
    written = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk))
      return true
    }) as typeof process.stdout.write
    restore = () => void (process.stdout.write = write)
  })

  afterEach(() => {
    restore()
    for (const name of Object.keys(process.env))
      if (name.startsWith('INPUT_') || name === 'GITHUB_OUTPUT') delete process.env[name]
    process.exitCode = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('has no line starting a workflow command except those the action writes itself', async () => {
    const password = 'pass\n::warning::from the password'
    Object.assign(
      process.env,
      { GITHUB_OUTPUT: path.join(dir, 'output') },
      inputEnv({
        ...validInputs,
        password,
        'resource-manager-endpoint': 'https://h.example/\n::warning::injected',
        'authority-host': 'https://h.example/\r::add-mask::injected',
        'server-name': 'x\n##[error]injected',
        database: 'd\n::stop-commands::injected',
        username: 'u\u2028::notice::injected',
        timeout: '99999999h'
      })
    )
    const io = createActionIO()
    await run(io)
    io.log.info('the Logger too:\n::warning::injected\n ::add-mask::injected ##[error]injected')
    const lines = written.join('').split(/\r\n|\r|\n|\u2028|\u2029/)
    const commands = lines.filter((line) => /^\s*::|##\[/.test(line))
    // core escapes a command's data as the runner unescapes it: % \r \n.
    const masks = [password, ...password.split('\n')].map(
      (secret) =>
        `::add-mask::${secret.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`
    )
    expect(
      commands.filter(
        (line) =>
          !masks.includes(line) &&
          !line.startsWith('::error::') &&
          // The post step's marker, written by the action itself (see post.ts).
          line !== '::save-state name=isPost::true'
      )
    ).toEqual([])
    const error = commands.filter((line) => line.startsWith('::error::'))
    expect(error).toHaveLength(1)
    for (const input of [
      'resource-manager-endpoint',
      'authority-host',
      'server-name',
      'database',
      'username',
      'timeout'
    ])
      expect(error[0]).toContain(`'${input}'`)
    expect(lines).toContain('\\::warning::injected')
  })
})
