// Azure's naming rules (azure-api.md §1.2 and the ARM conventions) and the names this action derives.

export interface NameRule {
  pattern: RegExp
  maxLength: number
  minLength: number
  /** The rule in words, for the error message. */
  description: string
}

const dataFactoryEntity: NameRule = {
  pattern: /^[A-Za-z0-9_][^<>*#.%&:\\+?/]*$/,
  minLength: 1,
  maxLength: 260,
  description: "starts with a letter, digit or '_' and contains none of < > * # . % & : \\ + ? /"
}

const nameRules = {
  subscriptionId: {
    pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    minLength: 36,
    maxLength: 36,
    description: 'a GUID such as 00000000-0000-0000-0000-000000000000'
  },
  resourceGroup: {
    pattern: /^[-\w.()]*[-\w()]$/u,
    minLength: 1,
    maxLength: 90,
    description: "letters, digits, '-', '_', '.', '(' and ')', not ending with '.'"
  },
  factory: {
    pattern: /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/,
    minLength: 3,
    maxLength: 63,
    description: "letters and digits, single '-' between them"
  },
  integrationRuntime: {
    pattern: /^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$/,
    minLength: 3,
    maxLength: 63,
    description: "letters and digits, single '-' between them"
  },
  managedVirtualNetwork: {
    pattern: /^([_A-Za-z0-9]|([_A-Za-z0-9][-_A-Za-z0-9]{0,125}[_A-Za-z0-9]))$/,
    minLength: 1,
    maxLength: 127,
    description: "letters, digits, '_' and '-', not starting or ending with '-'"
  },
  // The intersection of Data Factory's and Terraform's rules, so the name works everywhere.
  managedPrivateEndpoint: {
    pattern: /^[A-Za-z0-9]([-_A-Za-z0-9]{0,78}[_A-Za-z0-9])?$/,
    minLength: 1,
    maxLength: 80,
    description:
      "starts with a letter or digit, then letters, digits, '_' or '-', ends with a letter, digit or '_'"
  },
  server: {
    pattern: /^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/,
    minLength: 3,
    maxLength: 63,
    description: "lowercase letters, digits and '-', not starting or ending with '-'"
  },
  linkedService: dataFactoryEntity,
  dataset: dataFactoryEntity,
  pipeline: dataFactoryEntity
} satisfies Record<string, NameRule>

export type NameKind = keyof typeof nameRules

/** Undefined when `name` follows the rule; otherwise why it does not. */
export function nameProblem(kind: NameKind, name: string): string | undefined {
  const rule: NameRule = nameRules[kind]
  if (name.length < rule.minLength || name.length > rule.maxLength) {
    return `must be ${rule.minLength}–${rule.maxLength} characters long (got ${name.length})`
  }
  return rule.pattern.test(name) ? undefined : `must match ${rule.pattern} (${rule.description})`
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

const flexibleServerIdPattern =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.DBforPostgreSQL\/flexibleServers\/([^/]+)\/?$/i

/** The parts of a flexibleServers ARM id, or undefined when it is not one. */
export function parseFlexibleServerId(
  id: string
): { subscriptionId: string; resourceGroup: string; name: string } | undefined {
  const match = flexibleServerIdPattern.exec(id.trim())
  return match ? { subscriptionId: match[1], resourceGroup: match[2], name: match[3] } : undefined
}

export function flexibleServerId(
  subscriptionId: string,
  resourceGroup: string,
  name: string
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${name}`
}
