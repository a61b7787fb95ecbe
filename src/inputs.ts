// Reads every input, validates it and returns typed Settings before any request is sent.
// Secrets are masked first, so nothing later (even a validation message) can print them.
import { parseDuration } from './duration.js'
import { InputError } from './errors.js'
import type { InputReader, SecretMasker } from './io.js'
import {
  defaultEndpointName,
  defaultLinkedServiceName,
  flexibleServerId,
  nameProblem,
  parseFlexibleServerId,
  type NameKind
} from './names.js'
import type {
  ApprovalMode,
  AuthMethod,
  CloudName,
  CloudSettings,
  DatabaseCredential,
  DriftPolicy,
  KeyVaultSecretRef,
  LinkedServiceAuth,
  Mode,
  ServerRef,
  Settings,
  SslMode
} from './settings.js'

/** Defaults, as action.yml declares them (a local run without the runner gets the same). */
export const inputDefaults = {
  auth: 'auto',
  environment: 'AzureCloud',
  'managed-virtual-network': 'default',
  'integration-runtime': 'AutoResolveIntegrationRuntime',
  approval: 'auto',
  'approval-timeout': '15m',
  port: '5432',
  'ssl-mode': 'require',
  'test-connection': 'true',
  'test-query': 'SELECT 1',
  'test-timeout': '10m',
  'poll-interval': '10s',
  timeout: '45m',
  mode: 'apply',
  'on-drift': 'fail',
  force: 'false',
  'linked-service-auth': 'password'
} as const

export const clouds: Record<CloudName, Omit<CloudSettings, 'customAuthorityHost'>> = {
  AzureCloud: {
    name: 'AzureCloud',
    resourceManagerEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    oidcAudience: 'api://AzureADTokenExchange'
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    oidcAudience: 'api://AzureADTokenExchangeUSGov'
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    resourceManagerEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    oidcAudience: 'api://AzureADTokenExchangeChina'
  }
}

const refusedSslModes: Record<string, string> = { disable: '0', allow: '1', prefer: '2' }

/** Collects every problem instead of stopping at the first, so one run shows them all. */
class InputParser {
  readonly problems: string[] = []

  constructor(private readonly reader: InputReader) {}

  text(name: string): string {
    const value = this.reader.get(name)
    return value === '' && name in inputDefaults
      ? inputDefaults[name as keyof typeof inputDefaults]
      : value
  }

  optional(name: string): string | undefined {
    return this.text(name) || undefined
  }

  required(name: string, why = 'it is required'): string {
    const value = this.text(name)
    if (!value) this.problems.push(`'${name}' is missing: ${why}.`)
    return value
  }

  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.text(name)
    const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase())
    if (!match) this.problems.push(`'${name}' is '${value}'; allowed: ${allowed.join(', ')}.`)
    return match ?? allowed[0]
  }

  boolean(name: string): boolean {
    const value = this.text(name)
    if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true'
    this.problems.push(`'${name}' is '${value}'; allowed: true, false.`)
    return false
  }

  duration(name: string): number {
    const value = this.text(name)
    const ms = parseDuration(value)
    if (ms === undefined) {
      this.problems.push(
        `'${name}' is '${value}'; expected a duration above zero such as 500ms, 10s, 5m, 1h or plain seconds.`
      )
    }
    return ms ?? 1000
  }

  integer(name: string, min: number, max: number): number {
    const value = this.text(name)
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < min || number > max) {
      this.problems.push(`'${name}' is '${value}'; expected a whole number from ${min} to ${max}.`)
    }
    return number
  }

  name(inputName: string, kind: NameKind, value: string): string {
    const problem = value ? nameProblem(kind, value) : undefined
    if (problem) this.problems.push(`'${inputName}' ('${value}') ${problem}.`)
    return value
  }

  url(name: string): string | undefined {
    const value = this.optional(name)
    if (value === undefined) return undefined
    try {
      const url = new URL(value)
      if (url.protocol !== 'https:') throw new Error('not https')
      return value.replace(/\/+$/, '')
    } catch {
      this.problems.push(`'${name}' is '${value}'; expected an https:// URL.`)
      return undefined
    }
  }

  refuseWith(names: string[], reason: string): void {
    const given = names.filter((name) => this.text(name) !== '')
    if (given.length) this.problems.push(`${given.map((n) => `'${n}'`).join(', ')}: ${reason}.`)
  }
}

function readCloud(parser: InputParser): CloudSettings {
  const cloud = clouds[parser.choice('environment', Object.keys(clouds) as CloudName[])]
  const authorityHost = parser.url('authority-host')
  return {
    name: cloud.name,
    resourceManagerEndpoint:
      parser.url('resource-manager-endpoint') ?? cloud.resourceManagerEndpoint,
    authorityHost: authorityHost ?? cloud.authorityHost,
    customAuthorityHost: authorityHost !== undefined,
    oidcAudience: parser.optional('audience') ?? cloud.oidcAudience
  }
}

function readServer(parser: InputParser, subscriptionId: string, resourceGroup: string): ServerRef {
  const serverName = parser.optional('server-name')
  const serverId = parser.optional('server-id')
  if (serverName && serverId) {
    parser.problems.push("'server-name' and 'server-id' are both given; give exactly one.")
  }
  if (serverId) {
    parser.refuseWith(
      ['server-resource-group'],
      "not allowed with 'server-id', which names the resource group"
    )
    const parts = parseFlexibleServerId(serverId)
    if (!parts) {
      parser.problems.push(
        `'server-id' ('${serverId}') is not a flexible server id: expected /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.DBforPostgreSQL/flexibleServers/<name>.`
      )
      return { subscriptionId, resourceGroup, name: '', id: serverId }
    }
    parser.name('server-id', 'subscriptionId', parts.subscriptionId)
    parser.name('server-id', 'resourceGroup', parts.resourceGroup)
    parser.name('server-id', 'server', parts.name)
    return { ...parts, id: flexibleServerId(parts.subscriptionId, parts.resourceGroup, parts.name) }
  }
  const name = parser.name(
    'server-name',
    'server',
    parser.required('server-name', "give 'server-name' or 'server-id'")
  )
  const group = parser.name(
    'server-resource-group',
    'resourceGroup',
    parser.optional('server-resource-group') ?? resourceGroup
  )
  return {
    subscriptionId,
    resourceGroup: group,
    name,
    id: flexibleServerId(subscriptionId, group, name)
  }
}

function readKeyVaultSecret(
  parser: InputParser,
  nameInput: string,
  versionInput: string,
  why: string
): KeyVaultSecretRef {
  return {
    store: parser.name(
      'password-key-vault-linked-service',
      'linkedService',
      parser.required('password-key-vault-linked-service', why)
    ),
    secretName: parser.required(nameInput, why),
    secretVersion: parser.optional(versionInput)
  }
}

function readCredential(
  parser: InputParser,
  auth: LinkedServiceAuth,
  password: string | undefined
): DatabaseCredential {
  const keyVaultInputs = [
    'password-key-vault-linked-service',
    'password-secret-name',
    'password-secret-version'
  ]
  const servicePrincipalInputs = [
    'service-principal-id',
    'service-principal-tenant-id',
    'service-principal-key-secret-name',
    'service-principal-key-secret-version'
  ]
  if (auth === 'system-assigned-identity') {
    parser.refuseWith(
      ['password', ...keyVaultInputs, ...servicePrincipalInputs],
      "not used with linked-service-auth 'system-assigned-identity' (the factory's identity signs in; no secret is stored)"
    )
    return { kind: 'system-assigned-identity' }
  }
  if (auth === 'service-principal') {
    parser.refuseWith(
      ['password', 'password-secret-name', 'password-secret-version'],
      "not used with linked-service-auth 'service-principal'"
    )
    const why = "linked-service-auth 'service-principal' reads the key from Key Vault"
    return {
      kind: 'service-principal',
      servicePrincipalId: parser.required(
        'service-principal-id',
        "linked-service-auth 'service-principal' needs the application (client) id"
      ),
      tenantId:
        parser.optional('service-principal-tenant-id') ??
        parser.required(
          'tenant-id',
          "linked-service-auth 'service-principal' needs 'service-principal-tenant-id' or 'tenant-id'"
        ),
      key: readKeyVaultSecret(
        parser,
        'service-principal-key-secret-name',
        'service-principal-key-secret-version',
        why
      )
    }
  }
  parser.refuseWith(
    servicePrincipalInputs,
    "only used with linked-service-auth 'service-principal'"
  )
  const usesKeyVault = keyVaultInputs.some((name) => parser.text(name) !== '')
  if (password && usesKeyVault) {
    parser.problems.push(
      "'password' and the Key Vault inputs ('password-key-vault-linked-service', 'password-secret-name') are both given; give one."
    )
  }
  if (usesKeyVault) {
    return {
      kind: 'key-vault-password',
      secret: readKeyVaultSecret(
        parser,
        'password-secret-name',
        'password-secret-version',
        'a Key Vault password needs the linked service and the secret name'
      )
    }
  }
  if (!password) {
    parser.problems.push(
      "'password' is missing: give 'password' or 'password-key-vault-linked-service' with 'password-secret-name' (or set linked-service-auth)."
    )
  }
  return { kind: 'password', password: password ?? '' }
}

function readSslMode(parser: InputParser): SslMode {
  const value = parser.text('ssl-mode').toLowerCase()
  if (value in refusedSslModes) {
    parser.problems.push(
      `'ssl-mode' '${value}' (sslMode ${refusedSslModes[value]}) is refused: this action makes an encrypted private connection; use require, verify-ca or verify-full.`
    )
    return 'require'
  }
  return parser.choice<SslMode>('ssl-mode', ['require', 'verify-ca', 'verify-full'])
}

const modes: readonly Mode[] = ['apply', 'plan', 'destroy']

/** The mode alone (apply when invalid), so the summary of invalid inputs has the right title. */
export function readMode(reader: InputReader): Mode {
  return new InputParser(reader).choice<Mode>('mode', modes)
}

/** Reads and validates every input; throws InputError listing all problems. */
export function readSettings(reader: InputReader, secrets: SecretMasker): Settings {
  // Mask before anything else reads, logs or validates them.
  const untrimmed = { trimWhitespace: false }
  const password = reader.get('password', untrimmed) || undefined
  const clientSecret = reader.get('client-secret', untrimmed) || undefined
  if (password) secrets.mask(password)
  if (clientSecret) secrets.mask(clientSecret)
  const githubToken = reader.get('github-token') || undefined
  if (githubToken) secrets.mask(githubToken)

  const parser = new InputParser(reader)
  const mode = parser.choice<Mode>('mode', modes)
  const subscriptionId = parser.name(
    'subscription-id',
    'subscriptionId',
    parser.required('subscription-id')
  )
  const resourceGroup = parser.name(
    'resource-group',
    'resourceGroup',
    parser.required('resource-group')
  )
  const factoryName = parser.name('factory-name', 'factory', parser.required('factory-name'))
  const server = readServer(parser, subscriptionId, resourceGroup)

  const requested = parser.choice<AuthMethod | 'auto'>('auth', [
    'auto',
    'oidc',
    'client-secret',
    'azure-cli',
    'managed-identity'
  ])
  const clientId = parser.optional('client-id')
  const tenantId = parser.optional('tenant-id')
  if (
    requested === 'oidc' ||
    requested === 'client-secret' ||
    (requested === 'auto' && clientSecret)
  ) {
    const why = requested === 'auto' ? 'client-secret is given' : `auth '${requested}' needs it`
    parser.required('client-id', why)
    parser.required('tenant-id', why)
  }
  if (requested === 'client-secret' && !clientSecret) {
    parser.problems.push("'client-secret' is missing: auth 'client-secret' needs it.")
  }

  const database =
    mode === 'destroy' && parser.optional('linked-service-name')
      ? parser.text('database')
      : parser.required('database')
  const linkedServiceAuth = parser.choice<LinkedServiceAuth>('linked-service-auth', [
    'password',
    'system-assigned-identity',
    'service-principal'
  ])
  const credential: DatabaseCredential =
    mode === 'destroy'
      ? { kind: 'not-needed' }
      : readCredential(parser, linkedServiceAuth, password)
  const username = parser.optional('username')
  if (!username && mode !== 'destroy' && linkedServiceAuth !== 'system-assigned-identity') {
    parser.problems.push(
      `'username' is missing: linked-service-auth '${linkedServiceAuth}' signs in as a PostgreSQL role.`
    )
  }

  const testEnabled = parser.boolean('test-connection')
  const settings: Settings = {
    mode,
    onDrift: parser.choice<DriftPolicy>('on-drift', ['fail', 'recreate']),
    force: parser.boolean('force'),
    signIn: { requested, clientId, tenantId, clientSecret, cloud: readCloud(parser) },
    factory: { subscriptionId, resourceGroup, name: factoryName },
    managedVirtualNetwork: parser.name(
      'managed-virtual-network',
      'managedVirtualNetwork',
      parser.text('managed-virtual-network')
    ),
    integrationRuntime: parser.name(
      'integration-runtime',
      'integrationRuntime',
      parser.text('integration-runtime')
    ),
    endpointName: parser.name(
      'endpoint-name',
      'managedPrivateEndpoint',
      parser.optional('endpoint-name') ?? defaultEndpointName(server.name)
    ),
    server,
    approval: {
      mode: parser.choice<ApprovalMode>('approval', ['auto', 'wait', 'none']),
      timeoutMs: parser.duration('approval-timeout')
    },
    linkedService: {
      name: parser.name(
        'linked-service-name',
        'linkedService',
        parser.optional('linked-service-name') ?? defaultLinkedServiceName(server.name, database)
      ),
      database,
      username,
      port: parser.integer('port', 1, 65535),
      sslMode: readSslMode(parser),
      credential
    },
    connectionTest: {
      enabled: testEnabled,
      query: parser.text('test-query'),
      timeoutMs: parser.duration('test-timeout')
    },
    pollIntervalMs: parser.duration('poll-interval'),
    timeoutMs: parser.duration('timeout'),
    githubToken
  }
  if (parser.problems.length) throw new InputError(parser.problems)
  return settings
}
