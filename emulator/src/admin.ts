// The emulator's own control surface (no Azure API has it): a DBA's approvals, fault injection,
// the request log, state snapshots and reset; as an in-process client and under /_emulator/.
import type { AccessTokenOptions, GithubTokenOptions } from './identity.js'
import type {
  DenyPolicySeed,
  KeyVaultSecretSeed,
  EmuRequest,
  EmuResponse,
  HttpMethod,
  KeyVaultSeed,
  LockSeed,
  RoleAssignment,
  Route,
  Scenario
} from './types.js'

export type FaultKind =
  'throttle' | 'server-error' | 'unavailable' | 'drop-connection' | 'drop-after-write' | 'delay'

export interface FaultSpec {
  /**
   * What to do to a matching request; several = one of those that apply to it, drawn at random
   * ('drop-after-write', the request done and then the connection reset unanswered, applies to writes only).
   */
  kind: FaultKind | FaultKind[]
  /** Regular expression (case-insensitive) tested against the request path. */
  path: string
  /** Only this method; omitted = any. */
  method?: HttpMethod
  /** Hit the next N matching requests (default 1 when `rate` is not given). */
  count?: number
  /** Hit this fraction (0–1] of matching requests, spread evenly (at random with `seed`), until cleared. */
  rate?: number
  /** Seeds the random draws (which requests, with `rate`; which kind, with several): same requests, same faults. */
  seed?: number
  /** For 'throttle' (default 1) and 'unavailable': the Retry-After header, in seconds. */
  retryAfterSeconds?: number
  /** For 'delay': how long to hold the request before it proceeds. */
  delayMs?: number
}

export interface ActiveFault extends FaultSpec {
  id: number
  hits: number
}

/** The fault one request gets: its spec, with the one kind drawn for it. */
export type FaultHit = Omit<ActiveFault, 'kind'> & { kind: FaultKind }

export interface RequestLogEntry {
  seq: number
  time: string
  method: string
  path: string
  query: Record<string, string>
  /** 0 when the connection was dropped on purpose (before or after the work). */
  status: number
  durationMs: number
  /** The client id of the caller (from its token, or the one a token request names). */
  caller?: string
  fault?: FaultKind
  requestHeaders: Record<string, string>
  requestBody?: unknown
  responseBody?: unknown
}

export type ConnectionAction = 'approve' | 'reject' | 'disconnect'

/** Which server-side connection: by its name, or by the managed private endpoint that made it. */
export interface ConnectionSelector {
  /** The server's name or full resource id. */
  server: string
  connectionName?: string
  /** The managed private endpoint's name (matches `<factory>.<name>` and `<name>` endpoint ids). */
  privateEndpointName?: string
  /** Narrows `privateEndpointName` to this factory's endpoint. */
  factoryName?: string
  description?: string
}

export interface EmulatorAdmin {
  approve(selector: ConnectionSelector): unknown
  reject(selector: ConnectionSelector): unknown
  disconnect(selector: ConnectionSelector): unknown
  listConnections(server: string): unknown[]
  /**
   * A DBA deletes the connection on the server. Data Factory's view of the endpoint keeps saying
   * what it said (as Azure's does for a long while), but no traffic flows through it any more.
   */
  deleteConnection(selector: ConnectionSelector): void
  /** The server (name or id) is recreated under the same name, e.g. restored: no connections, a new `systemData.createdAt`. */
  recreateServer(server: string): void
  /** A DBA rotates a role's password in the server's PostgreSQL (ALTER ROLE … PASSWORD). */
  setRolePassword(options: { server: string; role: string; password: string }): Promise<void>
  /** A new version of a Key Vault secret (the newest is what a reference without version gets). */
  addKeyVaultSecretVersion(secret: KeyVaultSecretSeed): { version: string }
  injectFault(spec: FaultSpec): ActiveFault
  faults(): ActiveFault[]
  clearFaults(): void
  requestLog(options?: { since?: number }): RequestLogEntry[]
  clearRequestLog(): void
  snapshot(): unknown
  /** Re-seeds everything from the scenario; clears faults and the request log. */
  reset(): Promise<void>
  /** Replaces the Deny policy assignments, as a landing zone's platform team would (reset restores the scenario's). */
  setPolicies(policies: DenyPolicySeed[]): void
  /** Replaces the management locks. */
  setLocks(locks: LockSeed[]): void
  /** Sets the Private Link groups a server offers ([] = none, as an older server). */
  setPrivateLinkGroups(server: string, groups: string[]): void
  /** Replaces the vaults' network settings (a vault not listed allows public access). */
  setKeyVaults(vaults: KeyVaultSeed[]): void
  /** Replaces a principal's role assignments, as an administrator would in the portal. */
  setRoles(clientId: string, roles: RoleAssignment[]): void
  /** A GitHub OIDC token with chosen claims (other subjects, expired ones). */
  issueGithubToken(options: GithubTokenOptions): Promise<string>
  /** A Resource Manager token for this principal with chosen audience or lifetime (expired ones). */
  issueAccessToken(clientId: string, options?: AccessTokenOptions): Promise<string>
}

/** A refusal of an admin request, answered with its status over HTTP. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message)
  }
}

/** A small, fast PRNG (mulberry32): the same seed gives the same numbers in [0, 1), to replay a run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

const writeMethods = new Set(['PUT', 'POST', 'PATCH', 'DELETE'])

function appliesTo(kind: FaultKind, method: string): boolean {
  return kind !== 'drop-after-write' || writeMethods.has(method)
}

export class FaultInjector {
  private active: {
    fault: ActiveFault
    pattern: RegExp
    credit: number
    random: () => number
  }[] = []
  private nextId = 1

  add(spec: FaultSpec): ActiveFault {
    if (spec.rate !== undefined && !(spec.rate > 0 && spec.rate <= 1)) {
      throw new AdminError(400, 'rate must be in (0, 1]')
    }
    if (Array.isArray(spec.kind) && spec.kind.length === 0) {
      throw new AdminError(400, 'kind must name at least one fault')
    }
    const fault = { ...spec, id: this.nextId++, hits: 0 }
    this.active.push({
      fault,
      pattern: new RegExp(spec.path, 'i'),
      credit: 0,
      random: seededRandom(spec.seed ?? fault.id)
    })
    return { ...fault }
  }

  list(): ActiveFault[] {
    return this.active.map(({ fault }) => ({ ...fault }))
  }

  clear(): void {
    this.active = []
  }

  /** The fault that applies to this request, if any, counting it as used. */
  take(method: string, path: string): FaultHit | undefined {
    for (const entry of this.active) {
      const { fault } = entry
      if ((fault.method && fault.method !== method) || !entry.pattern.test(path)) continue
      const kinds = [fault.kind].flat().filter((kind) => appliesTo(kind, method))
      if (kinds.length === 0) continue
      if (fault.rate !== undefined) {
        if (fault.seed !== undefined) {
          if (entry.random() >= fault.rate) continue
        } else {
          entry.credit += fault.rate
          if (entry.credit < 1) continue
          entry.credit -= 1
        }
      }
      fault.hits++
      if (fault.rate === undefined && fault.hits >= (fault.count ?? 1)) {
        this.active = this.active.filter((other) => other !== entry)
      }
      const kind = kinds.length === 1 ? kinds[0] : kinds[Math.floor(entry.random() * kinds.length)]
      return { ...fault, kind }
    }
    return undefined
  }
}

const maxLogEntries = 5000

export class RequestLog {
  private entries: RequestLogEntry[] = []
  private nextSeq = 1

  record(entry: Omit<RequestLogEntry, 'seq'>): void {
    this.entries.push({ seq: this.nextSeq++, ...entry })
    if (this.entries.length > maxLogEntries)
      this.entries.splice(0, this.entries.length - maxLogEntries)
  }

  list(since = 0): RequestLogEntry[] {
    return this.entries.filter((entry) => entry.seq > since)
  }

  clear(): void {
    this.entries = []
  }
}

const secretKeys = new Set([
  'password',
  'client_secret',
  'client_assertion',
  'access_token',
  'refresh_token',
  'id_token',
  'authorization'
])
const jwtPattern = /eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/g
const connectionStringPassword = /((?:password|pwd)\s*=\s*)[^;]*/gi
const redacted = '***'
/**
 * Replaces a scenario secret found outside the fields meant to carry one (a password, client_secret,
 * SecureString value, token): the client sent it where it does not belong, so the log shows a leak.
 */
export const strayedSecret = '***SECRET-OUTSIDE-A-SECRET-FIELD***'

/** Every secret the scenario holds, so they are removed wherever they show up (headers, bodies, queries). */
export function scenarioSecrets(scenario: Scenario): string[] {
  return [
    ...scenario.principals.flatMap((principal) =>
      principal.clientSecret ? [principal.clientSecret] : []
    ),
    ...scenario.servers.flatMap((server) => server.roles.map((role) => role.password)),
    ...(scenario.keyVaultSecrets ?? []).map((secret) => secret.value)
  ].filter((secret) => secret.length > 0)
}

/** A copy of `value` with passwords, SecureString values, client secrets, assertions and tokens removed; a scenario secret elsewhere becomes `strayedSecret`. */
export function redact(value: unknown, secrets: string[]): unknown {
  if (typeof value === 'string') {
    let text = value
      .replace(jwtPattern, redacted)
      .replace(connectionStringPassword, `$1${redacted}`)
    for (const secret of secrets) text = text.split(secret).join(strayedSecret)
    return text
  }
  if (Array.isArray(value)) return value.map((item) => redact(item, secrets))
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>
    const isSecureString = record.type === 'SecureString'
    return Object.fromEntries(
      Object.entries(record).map(([key, item]) => {
        // A password may be a reference ({type: 'AzureKeyVaultSecret', …}): only its plain values are secret.
        const secret = secretKeys.has(key.toLowerCase()) || (isSecureString && key === 'value')
        return [key, secret && typeof item === 'string' ? redacted : redact(item, secrets)]
      })
    )
  }
  return value
}

function connectionOf(connection: unknown): { name: string; privateEndpointId: string } {
  const record = (connection ?? {}) as {
    name?: string
    properties?: { privateEndpoint?: { id?: string } }
  }
  return {
    name: record.name ?? '',
    privateEndpointId: record.properties?.privateEndpoint?.id ?? ''
  }
}

/** Picks the one connection the selector names; refuses none or several, as a careful DBA would. */
export function selectConnection(connections: unknown[], selector: ConnectionSelector): string {
  if (selector.connectionName) {
    const named = connections.map(connectionOf).find((c) => c.name === selector.connectionName)
    if (!named)
      throw new AdminError(404, `No connection '${selector.connectionName}' on ${selector.server}`)
    return named.name
  }
  const endpointName = selector.privateEndpointName?.toLowerCase()
  if (!endpointName) throw new AdminError(400, 'Give connectionName or privateEndpointName')
  const wanted = selector.factoryName
    ? `${selector.factoryName.toLowerCase()}.${endpointName}`
    : undefined
  const matches = connections.map(connectionOf).filter(({ privateEndpointId }) => {
    const last = (privateEndpointId.split('/').pop() ?? '').toLowerCase()
    return wanted ? last === wanted : last === endpointName || last.endsWith(`.${endpointName}`)
  })
  if (matches.length !== 1) {
    const found = matches.map((match) => match.privateEndpointId).join(', ')
    throw new AdminError(
      matches.length === 0 ? 404 : 409,
      matches.length === 0
        ? `No connection on ${selector.server} comes from an endpoint named '${selector.privateEndpointName}'`
        : `Several connections match '${selector.privateEndpointName}' (${found}); give factoryName or connectionName`
    )
  }
  return matches[0].name
}

function bodyOf<T>(req: EmuRequest): T {
  if (!req.body || typeof req.body !== 'object')
    throw new AdminError(400, 'A JSON body is required')
  return req.body as T
}

/** A field of an admin body: a dotted path, and the values it may take (any non-empty string when none). */
type FieldRule = readonly [path: string, allowed?: readonly string[]]

/**
 * The body as a JSON array whose items each hold the fields named (400 naming the first missing or
 * wrong one otherwise), so a mistyped landing-zone setting is refused instead of silently doing nothing.
 */
function listBodyOf<T>(req: EmuRequest, rules: readonly FieldRule[]): T[] {
  const body = req.body
  if (!Array.isArray(body)) throw new AdminError(400, 'The body must be a JSON array')
  body.forEach((item: unknown, index) => {
    for (const [field, allowed] of rules) {
      const value = field
        .split('.')
        .reduce<unknown>(
          (at, key) =>
            at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined,
          item
        )
      const ok = typeof value === 'string' && value !== '' && (!allowed || allowed.includes(value))
      if (!ok)
        throw new AdminError(
          400,
          `Item ${index} needs '${field}'${allowed ? ` (one of ${allowed.join(', ')})` : ' (a non-empty string)'}`
        )
    }
  })
  return body as T[]
}

/** The body as a JSON array of strings (400 otherwise). */
function stringListOf(req: EmuRequest): string[] {
  const body = req.body
  if (!Array.isArray(body) || body.some((item) => typeof item !== 'string'))
    throw new AdminError(400, 'The body must be a JSON array of string group ids')
  return body as string[]
}

const policyRules: readonly FieldRule[] = [
  ['assignment.name'],
  ['assignment.displayName'],
  ['assignment.scope'],
  ['definition.name'],
  ['definition.displayName'],
  ['resourceType']
]
const lockRules: readonly FieldRule[] = [
  ['name'],
  ['scope'],
  ['level', ['CanNotDelete', 'ReadOnly']]
]
const keyVaultRules: readonly FieldRule[] = [
  ['vaultBaseUrl'],
  ['id'],
  ['publicNetworkAccess', ['Enabled', 'Disabled']]
]

const connectionActions: Record<string, ConnectionAction> = {
  approve: 'approve',
  reject: 'reject',
  disconnect: 'disconnect'
}

/** The admin client's methods as HTTP routes under /_emulator/. */
export function adminRoutes(admin: EmulatorAdmin, info: () => unknown): Route[] {
  const answer = async (work: () => unknown, status = 200): Promise<EmuResponse> => {
    try {
      return { status, body: (await work()) ?? {} }
    } catch (error) {
      const refusal = error instanceof AdminError ? error : new AdminError(500, String(error))
      return {
        status: refusal.status,
        body: { error: { code: 'EmulatorAdmin', message: refusal.message } }
      }
    }
  }
  return [
    { method: 'GET', pattern: '/_emulator/info', handle: () => answer(info) },
    { method: 'GET', pattern: '/_emulator/snapshot', handle: () => answer(() => admin.snapshot()) },
    {
      method: 'GET',
      pattern: '/_emulator/requests',
      handle: (req) =>
        answer(() => admin.requestLog({ since: Number(req.query.get('since') ?? 0) }))
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/requests',
      handle: () => answer(() => admin.clearRequestLog())
    },
    { method: 'GET', pattern: '/_emulator/faults', handle: () => answer(() => admin.faults()) },
    {
      method: 'POST',
      pattern: '/_emulator/faults',
      handle: (req) => answer(() => admin.injectFault(bodyOf<FaultSpec>(req)), 201)
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/faults',
      handle: () => answer(() => admin.clearFaults())
    },
    {
      method: 'GET',
      pattern: '/_emulator/connections',
      handle: (req) => answer(() => admin.listConnections(req.query.get('server') ?? ''))
    },
    {
      method: 'POST',
      pattern: '/_emulator/connections/:action',
      handle: (req) =>
        answer(() => {
          const action = connectionActions[req.params.action]
          if (!action) throw new AdminError(404, `Unknown action '${req.params.action}'`)
          return admin[action](bodyOf<ConnectionSelector>(req))
        })
    },
    {
      method: 'DELETE',
      pattern: '/_emulator/connections',
      handle: (req) => answer(() => admin.deleteConnection(bodyOf<ConnectionSelector>(req)))
    },
    {
      method: 'POST',
      pattern: '/_emulator/servers/recreate',
      handle: (req) => answer(() => admin.recreateServer(bodyOf<{ server: string }>(req).server))
    },
    {
      method: 'PUT',
      pattern: '/_emulator/servers/role-password',
      handle: (req) =>
        answer(() =>
          admin.setRolePassword(bodyOf<{ server: string; role: string; password: string }>(req))
        )
    },
    {
      method: 'POST',
      pattern: '/_emulator/key-vault-secrets',
      handle: (req) =>
        answer(() => admin.addKeyVaultSecretVersion(bodyOf<KeyVaultSecretSeed>(req)), 201)
    },
    { method: 'POST', pattern: '/_emulator/reset', handle: () => answer(() => admin.reset()) },
    {
      method: 'PUT',
      pattern: '/_emulator/policies',
      handle: (req) => answer(() => admin.setPolicies(listBodyOf<DenyPolicySeed>(req, policyRules)))
    },
    {
      method: 'PUT',
      pattern: '/_emulator/locks',
      handle: (req) => answer(() => admin.setLocks(listBodyOf<LockSeed>(req, lockRules)))
    },
    {
      method: 'PUT',
      pattern: '/_emulator/servers/:server/private-link-groups',
      handle: (req) =>
        answer(() => admin.setPrivateLinkGroups(req.params.server, stringListOf(req)))
    },
    {
      method: 'PUT',
      pattern: '/_emulator/key-vaults',
      handle: (req) =>
        answer(() => admin.setKeyVaults(listBodyOf<KeyVaultSeed>(req, keyVaultRules)))
    },
    {
      method: 'PUT',
      pattern: '/_emulator/principals/:clientId/roles',
      handle: (req) =>
        answer(() => admin.setRoles(req.params.clientId, bodyOf<RoleAssignment[]>(req)))
    }
  ]
}
