// Reads every input, validates it and returns typed Settings before any request is sent.
// Secrets are masked first, so nothing later (even a validation message) can print them.
import { posix } from 'node:path'
import { durationProblem, parseDuration } from './duration.js'
import { InputError } from './errors.js'
import { quoted } from './escape.js'
import type { InputReader, SecretMasker } from './io.js'
import {
  characterProblem,
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
  CloudSettings,
  DatabaseCredential,
  DriftPolicy,
  KeyVaultSecretRef,
  LinkedServiceAuth,
  Mode,
  ServerRef,
  Settings
} from './settings.js'
import { cloudNames, clouds } from './clouds.js'
import {
  encryptedSslModes,
  encryptedSslModesText,
  isEncryptedSslMode,
  sslModeNumbers,
  type SslMode
} from './ssl-modes.js'

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
  'fail-on-drift': 'true',
  force: 'false',
  'linked-service-auth': 'password'
} as const

// GitHub's core.getBooleanInput reads exactly these (YAML 1.2 core schema booleans).
const booleanSpellings: Record<string, boolean> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false
}

/**
 * Collects every problem instead of stopping at the first, so one run shows them all. Each problem
 * names the input, shows its value through `quoted` (so no value can start a workflow command),
 * says why it is refused and, where the mistake is guessable, what to write instead.
 */
class InputParser {
  readonly problems: string[] = []

  constructor(private readonly reader: InputReader) {}

  text(name: string): string {
    const value = this.reader.get(name)
    return value === '' && name in inputDefaults
      ? inputDefaults[name as keyof typeof inputDefaults]
      : value
  }

  /** Whether the workflow sets the input (a default does not count). */
  given(name: string): boolean {
    return this.reader.get(name) !== ''
  }

  optional(name: string): string | undefined {
    return this.text(name) || undefined
  }

  required(name: string, why = 'it is required'): string {
    const value = this.text(name)
    if (!value) this.problems.push(`'${name}' is missing: ${why}.`)
    return value
  }

  refuse(name: string, value: string, why: string): void {
    this.problems.push(`'${name}' is ${quoted(value)}: ${why}.`)
  }

  /** Enum values match case-insensitively (as Azure's own names do). */
  choice<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.text(name)
    const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase())
    if (!match)
      this.refuse(name, value, characterProblem(value) ?? `allowed: ${allowed.join(', ')}`)
    return match ?? allowed[0]
  }

  boolean(name: string): boolean {
    const value = this.text(name)
    const parsed = booleanSpellings[value]
    if (parsed === undefined) {
      this.refuse(
        name,
        value,
        characterProblem(value) ??
          'allowed: true or false (also True, TRUE, False, FALSE, as GitHub reads booleans)'
      )
    }
    return parsed ?? false
  }

  duration(name: string): number {
    const value = this.text(name)
    const problem = characterProblem(value) ?? durationProblem(value)
    if (problem) this.refuse(name, value, problem)
    return problem ? 1000 : (parseDuration(value) ?? 1000)
  }

  integer(name: string, min: number, max: number): number {
    const value = this.text(name)
    const number = Number(value)
    if (!/^\d+$/.test(value) || number < min || number > max) {
      this.refuse(
        name,
        value,
        characterProblem(value) ?? `must be a whole number from ${min} to ${max}`
      )
    }
    return number
  }

  /** The value when it follows the rule of `kind` (or is empty); a problem otherwise. */
  check(inputName: string, kind: NameKind, value: string): string {
    const problem = value ? nameProblem(kind, value) : undefined
    if (problem) this.refuse(inputName, value, problem)
    return value
  }

  /** An optional input checked against the rule of `kind`; undefined when not given. */
  name(inputName: string, kind: NameKind): string | undefined {
    const value = this.optional(inputName)
    return value === undefined ? undefined : this.check(inputName, kind, value)
  }

  /** A required input checked against the rule of `kind`. */
  requiredName(inputName: string, kind: NameKind, why?: string): string {
    return this.check(inputName, kind, this.required(inputName, why))
  }

  /** Free text (a query): any characters but control ones, line breaks and tabs allowed. */
  freeText(name: string): string {
    const value = this.text(name)
    const problem = characterProblem(value.replace(/[\r\n\t]/g, ' '), true)
    if (problem) this.refuse(name, value, problem)
    return value
  }

  /**
   * An https URL without control characters, spaces, credentials, query, fragment or percent
   * signs; returned as parsed (origin and path, no trailing '/'), never as given.
   */
  url(name: string): string | undefined {
    const value = this.optional(name)
    if (value === undefined) return undefined
    const problem = characterProblem(value) ?? urlProblem(value)
    if (problem) {
      this.refuse(name, value, problem)
      return undefined
    }
    const url = new URL(value)
    return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
  }

  /** A folder relative to the workspace, '/'-separated and normalized; undefined when not given. */
  relativePath(name: string): string | undefined {
    const value = this.optional(name)
    if (value === undefined) return undefined
    const problem = characterProblem(value, true) ?? relativePathProblem(value)
    if (problem) this.refuse(name, value, problem)
    return problem ? undefined : posix.normalize(value).replace(/\/+$/, '')
  }

  refuseWith(names: string[], reason: string): void {
    const given = names.filter((name) => this.given(name))
    if (given.length) this.problems.push(`${given.map((n) => `'${n}'`).join(', ')}: ${reason}.`)
  }
}

/** Characters Windows refuses in file names (a runner may be Windows). */
const nonPortablePathCharacter = /[<>:"|?*]/

/** Why a (printable) value is not a folder inside the workspace, or undefined. */
function relativePathProblem(value: string): string | undefined {
  if (value.includes('\\')) return "contains '\\': separate folders with '/'"
  if (posix.isAbsolute(value) || /^[a-z]:/i.test(value))
    return 'must be relative to the workspace (GITHUB_WORKSPACE), such as adf or factories/adf'
  const segments = value.split('/')
  if (segments.includes('..')) return "must stay inside the workspace: remove '..'"
  const character = nonPortablePathCharacter.exec(value)?.[0]
  if (character) return `contains ${quoted(character)}, which Windows refuses in file names`
  if (segments.some((segment) => Buffer.byteLength(segment) > 255))
    return 'has a folder name longer than 255 bytes'
  return undefined
}

/** Why an (ASCII, printable) value is not a usable https endpoint, or undefined. */
function urlProblem(value: string): string | undefined {
  if (value.includes(' ')) return 'contains a space: remove it'
  if (!URL.canParse(value))
    return `must be an https:// URL such as ${clouds.AzureCloud.resourceManagerEndpoint}`
  const url = new URL(value)
  if (url.protocol !== 'https:') {
    const https =
      url.protocol === 'http:' ? `; use ${quoted(value.replace(/^http:/i, 'https:'))}` : ''
    return `must be an https:// URL${https}`
  }
  if (url.username || url.password) return 'must not contain a user name or password'
  if (url.search || url.hash || value.includes('?') || value.includes('#'))
    return "must not have a query ('?') or fragment ('#')"
  if (value.includes('%')) return "must not contain '%' (percent-encoding)"
  return undefined
}

function readCloud(parser: InputParser): CloudSettings {
  const cloud = clouds[parser.choice('environment', cloudNames)]
  const authorityHost = parser.url('authority-host')
  return {
    name: cloud.name,
    resourceManagerEndpoint:
      parser.url('resource-manager-endpoint') ?? cloud.resourceManagerEndpoint,
    authorityHost: authorityHost ?? cloud.authorityHost,
    customAuthorityHost: authorityHost !== undefined,
    oidcAudience: parser.name('audience', 'audience') ?? cloud.oidcAudience
  }
}

/** server-id, parsed into its parts (each checked by its own rule), never used as given. */
function readServerId(parser: InputParser, serverId: string): ServerRef | undefined {
  const problem = characterProblem(serverId)
  const parts = problem ? undefined : parseFlexibleServerId(serverId)
  if (!parts) {
    const bareName = !serverId.includes('/') && nameProblem('server', serverId) === undefined
    parser.refuse(
      'server-id',
      serverId,
      problem ??
        (bareName
          ? "that is a server name: give it as 'server-name' instead"
          : 'must be a flexible server id: /subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.DBforPostgreSQL/flexibleServers/<name>')
    )
    return undefined
  }
  if (parts.child) {
    const server = flexibleServerId(parts)
    parser.refuse('server-id', serverId, `names something inside a server: use ${quoted(server)}`)
    return undefined
  }
  const before = parser.problems.length
  for (const [kind, value] of [
    ['guid', parts.subscriptionId],
    ['resourceGroup', parts.resourceGroup],
    ['server', parts.name]
  ] as const) {
    const why = nameProblem(kind, value)
    if (why) parser.refuse('server-id', serverId, `its part ${quoted(value)} ${why}`)
  }
  return parser.problems.length > before ? undefined : { ...parts, id: flexibleServerId(parts) }
}

function readServer(parser: InputParser, subscriptionId: string, resourceGroup: string): ServerRef {
  const serverName = parser.optional('server-name')
  const serverId = parser.optional('server-id')
  const unknown = { subscriptionId, resourceGroup, name: '', id: '' }
  if (serverName && serverId) {
    parser.problems.push("'server-name' and 'server-id' are both given; give exactly one.")
    return unknown
  }
  if (serverId) {
    parser.refuseWith(
      ['server-resource-group'],
      "not allowed with 'server-id', which names the resource group"
    )
    return readServerId(parser, serverId) ?? unknown
  }
  const name = parser.requiredName('server-name', 'server', "give 'server-name' or 'server-id'")
  const group = parser.name('server-resource-group', 'resourceGroup') ?? resourceGroup
  const parts = { subscriptionId, resourceGroup: group, name }
  return { ...parts, id: flexibleServerId(parts) }
}

function readKeyVaultSecret(
  parser: InputParser,
  nameInput: string,
  versionInput: string,
  why: string
): KeyVaultSecretRef {
  return {
    store: parser.requiredName('password-key-vault-linked-service', 'linkedService', why),
    secretName: parser.requiredName(nameInput, 'keyVaultSecret', why),
    secretVersion: parser.name(versionInput, 'keyVaultSecretVersion')
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
      servicePrincipalId: parser.requiredName(
        'service-principal-id',
        'guid',
        "linked-service-auth 'service-principal' needs the application (client) id"
      ),
      tenantId:
        parser.name('service-principal-tenant-id', 'tenant') ??
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
  const usesKeyVault = keyVaultInputs.some((name) => parser.given(name))
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
  const value = parser.text('ssl-mode')
  const lower = value.toLowerCase()
  const number = Object.hasOwn(sslModeNumbers, lower)
    ? sslModeNumbers[lower as keyof typeof sslModeNumbers]
    : undefined
  if (number !== undefined && !isEncryptedSslMode(number)) {
    parser.refuse(
      'ssl-mode',
      value,
      `sslMode ${number} is refused: this action makes an encrypted private connection; use ${encryptedSslModesText()}`
    )
    return 'require'
  }
  return parser.choice<SslMode>('ssl-mode', [...encryptedSslModes])
}

/**
 * Masks a secret input, and each of its lines too (the runner masks a multi-line value only
 * line by line).
 */
function maskSecret(secrets: SecretMasker, secret: string | undefined): void {
  if (!secret) return
  secrets.mask(secret)
  const lines = secret.split(/\r?\n|\r/).filter((line) => line.trim() !== '')
  if (lines.length > 1) lines.forEach((line) => secrets.mask(line))
}

const modes: readonly Mode[] = ['apply', 'plan', 'destroy', 'check', 'approve']

/** The mode alone (apply when invalid), so the summary of invalid inputs has the right title. */
export function readMode(reader: InputReader): Mode {
  return new InputParser(reader).choice<Mode>('mode', modes)
}

/**
 * Reads and checks every input before anything uses it; throws InputError listing every problem
 * of the inputs the workflow set (a name derived from an invalid one is not reported again).
 */
export function readSettings(reader: InputReader, secrets: SecretMasker): Settings {
  // Mask before anything else reads, logs or validates them.
  const untrimmed = { trimWhitespace: false }
  const password = reader.get('password', untrimmed) || undefined
  const clientSecret = reader.get('client-secret', untrimmed) || undefined
  maskSecret(secrets, password)
  maskSecret(secrets, clientSecret)
  const githubToken = reader.get('github-token') || undefined
  maskSecret(secrets, githubToken)

  const parser = new InputParser(reader)
  // A token is one word; its value is never shown, even escaped.
  if (githubToken && /[\s\p{C}]/u.test(githubToken)) {
    parser.problems.push(
      "'github-token' is not a token: it holds spaces, line breaks or control characters; pass the token itself (the default, ${{ github.token }}, is the job's own)."
    )
  }
  const mode = parser.choice<Mode>('mode', modes)
  const subscriptionId = parser.requiredName('subscription-id', 'guid')
  const resourceGroup = parser.requiredName('resource-group', 'resourceGroup')
  const factoryName = parser.requiredName('factory-name', 'factory')
  const server = readServer(parser, subscriptionId, resourceGroup)

  const requested = parser.choice<AuthMethod | 'auto'>('auth', [
    'auto',
    'oidc',
    'client-secret',
    'azure-cli',
    'managed-identity'
  ])
  const clientId = parser.name('client-id', 'guid')
  const tenantId = parser.name('tenant-id', 'tenant')
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

  // Destroy (given the linked service's name) and approve (only the server) need no database.
  const database =
    (mode === 'destroy' && parser.given('linked-service-name')) || mode === 'approve'
      ? (parser.name('database', 'database') ?? '')
      : parser.requiredName('database', 'database')
  const linkedServiceAuth = parser.choice<LinkedServiceAuth>('linked-service-auth', [
    'password',
    'system-assigned-identity',
    'service-principal'
  ])
  const needsCredential = mode !== 'destroy' && mode !== 'approve'
  const credential: DatabaseCredential = needsCredential
    ? readCredential(parser, linkedServiceAuth, password)
    : { kind: 'not-needed' }
  const username = parser.name('username', 'role')
  if (!username && needsCredential && linkedServiceAuth !== 'system-assigned-identity') {
    parser.problems.push(
      `'username' is missing: linked-service-auth '${linkedServiceAuth}' signs in as a PostgreSQL role.`
    )
  }

  const testEnabled = parser.boolean('test-connection')
  const settings: Settings = {
    mode,
    onDrift: parser.choice<DriftPolicy>('on-drift', ['fail', 'recreate']),
    failOnDrift: parser.boolean('fail-on-drift'),
    force: parser.boolean('force'),
    signIn: { requested, clientId, tenantId, clientSecret, cloud: readCloud(parser) },
    factory: { subscriptionId, resourceGroup, name: factoryName },
    // Both have defaults, so "required" only checks them.
    managedVirtualNetwork: parser.requiredName('managed-virtual-network', 'managedVirtualNetwork'),
    integrationRuntime: parser.requiredName('integration-runtime', 'integrationRuntime'),
    // Derived names follow their rule whenever the names they come from follow theirs.
    endpointName:
      parser.name('endpoint-name', 'managedPrivateEndpoint') ?? defaultEndpointName(server.name),
    server,
    approval: {
      mode: parser.choice<ApprovalMode>('approval', ['auto', 'wait', 'none']),
      timeoutMs: parser.duration('approval-timeout')
    },
    linkedService: {
      name:
        parser.name('linked-service-name', 'linkedService') ??
        defaultLinkedServiceName(server.name, database),
      database,
      username,
      port: parser.integer('port', 1, 65535),
      sslMode: readSslMode(parser),
      credential
    },
    connectionTest: {
      enabled: testEnabled,
      query: parser.freeText('test-query'),
      timeoutMs: parser.duration('test-timeout')
    },
    pollIntervalMs: parser.duration('poll-interval'),
    timeoutMs: parser.duration('timeout'),
    githubToken,
    exportPath: parser.relativePath('export-path')
  }
  if (parser.problems.length) throw new InputError(parser.problems)
  return settings
}
