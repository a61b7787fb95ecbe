// The rules for every name and id an input gives (Azure's, as azure-api.md §1.2 and Microsoft Learn's
// naming rules state them), what a refused value most likely meant, and the names this action derives.
import { codePoint, invisibleCharacter, quoted } from './escape.js'
import { clouds } from './clouds.js'

export interface NameRule {
  pattern: RegExp
  minLength: number
  maxLength: number
  /** Lengths count UTF-8 bytes (PostgreSQL's NAMEDATALEN) instead of characters. */
  lengthInBytes?: boolean
  /** Any letter is allowed; otherwise only ASCII (a non-ASCII character is then named). */
  unicode?: boolean
  /** The rule in words, completing "must be …". */
  description: string
  /** What a refused value most likely meant (e.g. the server name inside its FQDN). */
  suggest?: (value: string) => string | undefined
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// A DNS domain of at least two labels, such as contoso.onmicrosoft.com.
const domainPattern =
  /^(?=.{4,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/

/** The GUID inside braces, quotes or a `urn:uuid:` prefix. */
function bareGuid(value: string): string | undefined {
  const inner = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(value)?.[0]
  return inner && inner !== value ? `use ${quoted(inner)}` : undefined
}

/** A resource id given where a name is wanted: suggest its last segment. */
function nameFromId(value: string): string | undefined {
  return value.startsWith('/subscriptions/') ? `use ${quoted(lastSegment(value))}` : undefined
}

// The DNS suffixes of flexible servers in every cloud.
const serverHostSuffix = new RegExp(
  `\\.(?:${Object.values(clouds)
    .map((cloud) => cloud.postgresHostSuffix.replace(/\./g, '\\.'))
    .join('|')})$`,
  'i'
)

function suggestServerName(value: string): string | undefined {
  if (value.startsWith('/subscriptions/'))
    return "that is a resource id: give it as 'server-id' instead"
  const host = value.replace(/^[a-z]+:\/\//i, '').replace(/[:/].*$/, '')
  const name = serverHostSuffix.test(host) ? host.replace(serverHostSuffix, '') : undefined
  if (name !== undefined && nameRules.server.pattern.test(name.toLowerCase()))
    return `that is the server's host name: use ${quoted(name.toLowerCase())}`
  const lower = value.toLowerCase()
  return lower !== value && nameRules.server.pattern.test(lower)
    ? `server names are lowercase: use ${quoted(lower)}`
    : undefined
}

// A secret's id: https://<vault>.vault.azure.net/secrets/<name>[/<version>].
const secretIdPattern = /^https:\/\/[^/]+\/secrets\/([^/?#]+)(?:\/([^/?#]+))?\/?$/i

function suggestSecretName(value: string): string | undefined {
  const fromId = secretIdPattern.exec(value)
  if (fromId)
    return `that is the secret's id: use ${quoted(fromId[1])}${fromId[2] ? ` and give ${quoted(fromId[2])} as the secret's version` : ''}`
  const kept = value.replace(/[^0-9A-Za-z-]/g, '').slice(0, 127)
  return kept && kept !== value ? `use ${quoted(kept)}` : undefined
}

function suggestSecretVersion(value: string): string | undefined {
  const version = secretIdPattern.exec(value)?.[2]
  return version ? `that is the secret's id: use ${quoted(version)}` : undefined
}

const dataFactoryEntity: NameRule = {
  pattern: /^[A-Za-z0-9_][^<>*#.%&:\\+?/]*$/u,
  minLength: 1,
  maxLength: 260,
  unicode: true,
  description:
    "a name that starts with an ASCII letter, digit or '_' and has none of < > * # . % & : \\ + ? /"
}

const dataFactoryName = {
  pattern: /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/,
  minLength: 3,
  maxLength: 63,
  description: "letters and digits, with single '-' between them",
  suggest: nameFromId
}

// PostgreSQL identifiers: any characters, at most NAMEDATALEN - 1 = 63 bytes.
const postgresIdentifier: NameRule = {
  pattern: /^.+$/u,
  minLength: 1,
  maxLength: 63,
  lengthInBytes: true,
  unicode: true,
  description: 'a PostgreSQL name'
}

const guid: NameRule = {
  pattern: guidPattern,
  minLength: 36,
  maxLength: 36,
  description: 'a GUID such as 00000000-0000-0000-0000-000000000000',
  suggest: bareGuid
}

const nameRules = {
  guid,
  // Microsoft Entra accepts a tenant's id or one of its verified domains wherever a tenant is named.
  tenant: {
    ...guid,
    pattern: new RegExp(`${guidPattern.source}|${domainPattern.source}`, 'i'),
    minLength: 4,
    maxLength: 253,
    description: 'a tenant id (a GUID) or one of its domains such as contoso.onmicrosoft.com'
  },
  // Microsoft Learn, naming rules: letters and digits as Char.IsLetterOrDigit, '_', '-', '.', '(', ')'.
  resourceGroup: {
    pattern: /^[-\p{L}\p{Nd}_.()]*[-\p{L}\p{Nd}_()]$/u,
    minLength: 1,
    maxLength: 90,
    unicode: true,
    description: "letters, digits, '-', '_', '.', '(' and ')', not ending with '.'",
    suggest: nameFromId
  },
  factory: dataFactoryName,
  integrationRuntime: dataFactoryName,
  managedVirtualNetwork: {
    pattern: /^([_A-Za-z0-9]|([_A-Za-z0-9][-_A-Za-z0-9]{0,125}[_A-Za-z0-9]))$/,
    minLength: 1,
    maxLength: 127,
    description: "letters, digits, '_' and '-', not starting or ending with '-'",
    suggest: nameFromId
  },
  // The intersection of Data Factory's and Terraform's rules, so the name works everywhere.
  managedPrivateEndpoint: {
    pattern: /^[A-Za-z0-9]([-_A-Za-z0-9]{0,78}[_A-Za-z0-9])?$/,
    minLength: 1,
    maxLength: 80,
    description:
      "letters, digits, '_' and '-', starting with a letter or digit and not ending with '-'",
    suggest: nameFromId
  },
  server: {
    pattern: /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
    minLength: 3,
    maxLength: 63,
    description: "lowercase letters, digits and '-', not starting or ending with '-'",
    suggest: suggestServerName
  },
  linkedService: { ...dataFactoryEntity, suggest: nameFromId },
  dataset: dataFactoryEntity,
  pipeline: dataFactoryEntity,
  // Key Vault object names: https://learn.microsoft.com/azure/key-vault/general/about-keys-secrets-certificates
  keyVaultSecret: {
    pattern: /^[0-9A-Za-z-]+$/,
    minLength: 1,
    maxLength: 127,
    description: "letters, digits and '-' only (a Key Vault secret name)",
    suggest: suggestSecretName
  },
  keyVaultSecretVersion: {
    pattern: /^[0-9a-f]{32}$/i,
    minLength: 32,
    maxLength: 32,
    description: "32 hexadecimal digits (the last part of the secret's id)",
    suggest: suggestSecretVersion
  },
  database: postgresIdentifier,
  role: postgresIdentifier,
  audience: {
    pattern: /^[!-~]+$/,
    minLength: 1,
    maxLength: 600,
    description: `an audience without spaces such as ${clouds.AzureCloud.oidcAudience}`
  }
} satisfies Record<string, NameRule>

export type NameKind = keyof typeof nameRules

/** What an invisible character is, in words. */
function characterKind(character: string): string {
  if (/[\n\r\u0085\u2028\u2029]/.test(character)) return 'a line break'
  if (character === '\t') return 'a tab'
  return /\p{Cc}/u.test(character) ? 'a control character' : 'an invisible character'
}

/**
 * Why text breaks the character rules every input shares, or undefined: no control, format or
 * line-breaking character (shown escaped), and only ASCII unless `unicode` (a look-alike such as
 * Cyrillic 'а' is named with its code point).
 */
export function characterProblem(value: string, unicode = false): string | undefined {
  const hidden = invisibleCharacter(value)
  if (hidden !== undefined) return `contains ${quoted(hidden)}, ${characterKind(hidden)}: remove it`
  const foreign = unicode ? undefined : /[^\x20-\x7e]/u.exec(value)?.[0]
  if (foreign !== undefined)
    return `contains ${quoted(foreign)} (${codePoint(foreign)}), which is not ASCII (a look-alike of a Latin letter?): retype it`
  return undefined
}

/** Undefined when `value` follows the rule; otherwise why not, with a fix when one is guessable. */
export function nameProblem(kind: NameKind, value: string): string | undefined {
  const rule: NameRule = nameRules[kind]
  const why = characterProblem(value, rule.unicode) ?? ruleProblem(rule, value)
  if (why === undefined) return undefined
  const fix = rule.suggest?.(value)
  return fix ? `${why}; ${fix}` : why
}

function ruleProblem(rule: NameRule, value: string): string | undefined {
  const length = rule.lengthInBytes ? Buffer.byteLength(value) : Array.from(value).length
  const lengthFits = length >= rule.minLength && length <= rule.maxLength
  if (lengthFits && rule.pattern.test(value)) return undefined
  // A fixed-length form (a GUID, a version) is described by its form alone.
  const range =
    lengthFits || rule.minLength === rule.maxLength
      ? ''
      : `, ${rule.minLength}–${rule.maxLength} ${rule.lengthInBytes ? 'bytes (UTF-8)' : 'characters'} long (it has ${length})`
  return `must be ${rule.description}${range}`
}

/** `pg-<server>`: valid under the endpoint rule for every valid server name. */
export function defaultEndpointName(serverName: string): string {
  return `pg-${serverName}`.slice(0, nameRules.managedPrivateEndpoint.maxLength).replace(/-+$/, '')
}

/** `PostgreSql_<server>_<database>`, with characters Data Factory refuses replaced by '_'. */
export function defaultLinkedServiceName(serverName: string, database: string): string {
  const name = `PostgreSql_${serverName}_${database}`.replace(/[<>*#.%&:\\+?/\s]/g, '_')
  return name.slice(0, nameRules.linkedService.maxLength)
}

/** The last segment of an ARM id. */
export function lastSegment(id: string): string {
  return id.split('/').filter(Boolean).pop() ?? ''
}

/** ARM ids, names and states compare case-insensitively. */
export function sameText(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase()
}

export interface FlexibleServerIdParts {
  subscriptionId: string
  resourceGroup: string
  name: string
}

const flexibleServerIdPattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DBforPostgreSQL\/flexibleServers\/([^/]+)(\/.*)?$/i

/**
 * The parts of a flexibleServers ARM id (case-insensitive on the fixed segments), or undefined
 * when it is not one; `child` is set when the id names something inside the server (a database).
 */
export function parseFlexibleServerId(
  id: string
): (FlexibleServerIdParts & { child?: string }) | undefined {
  const match = flexibleServerIdPattern.exec(id)
  if (!match) return undefined
  const child = match[4] && match[4] !== '/' ? match[4] : undefined
  return { subscriptionId: match[1], resourceGroup: match[2], name: match[3], child }
}

export function flexibleServerId(parts: FlexibleServerIdParts): string {
  return `/subscriptions/${parts.subscriptionId}/resourceGroups/${parts.resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${parts.name}`
}
