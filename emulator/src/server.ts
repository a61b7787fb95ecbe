// The emulator's HTTPS front door: Resource Manager's pipeline (faults, token, api-version, RBAC,
// subscription and resource group checks) in front of the routes, and the start/stop of everything.
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {
  AdminError,
  adminRoutes,
  FaultInjector,
  redact,
  RequestLog,
  scenarioSecrets,
  selectConnection,
  type FaultHit,
  type FaultKind,
  type EmulatorAdmin
} from './admin.js'
import { armError } from './arm-errors.js'
import { createArmPlatform, type ArmPlatform } from './arm-platform.js'
import { createCertificateAuthority } from './ca.js'
import { resolveDelays, sleep } from './delays.js'
import { governanceRefusal } from './governance.js'
import { createIdentity, type Identity } from './identity.js'
import type { PostgresCluster, PostgresClusterOptions } from './postgres-cluster.js'
import { serverFqdn, serverResourceId } from './postgres-flexible.js'
import type { ProviderAdmin } from './providers.js'
import { createGitHubApi, githubApiPath, type GitHubApi } from './github-api.js'
import { authorizationFailed, authorizationScope, isAuthorized, roleDefinitionOf } from './rbac.js'
import { Router } from './router.js'
import {
  emulatorUrlPlaceholder,
  type Delays,
  type EmuRequest,
  type EmuResponse,
  type HttpMethod,
  type LookupRequest,
  type LookupResult,
  type PostgresAddress,
  type PrincipalSeed,
  type ProviderContext,
  type Route,
  type Scenario
} from './types.js'

export interface StartEmulatorOptions {
  scenario: Scenario
  /** Start a real PostgreSQL cluster for every server (default true). */
  postgres?: boolean
  /** Default 0: a free port. */
  port?: number
  log?: (line: string) => void
  /** Where the emulator's temporary folder goes (default the OS temp dir); removed by stop(). */
  tempDir?: string
}

export interface RunningEmulator {
  /** `https://127.0.0.1:<port>`: Resource Manager, Entra ID authority host and GitHub OIDC issuer at once. */
  url: string
  caFile: string
  caPem: string
  tenantId: string
  /** What a client process needs: NODE_EXTRA_CA_CERTS and the runner's OIDC request variables. */
  env: Record<string, string>
  principals: PrincipalSeed[]
  /** GitHub's issue-comment API (GITHUB_API_URL = apiUrl) with a writing and a read-only job token. */
  github: Omit<GitHubApi, 'routes'> & { apiUrl: string }
  delays: Delays
  /** Where each server's real PostgreSQL listens, by server resource id (empty without postgres). */
  postgres: Record<string, PostgresAddress>
  admin: EmulatorAdmin
  stop(): Promise<void>
}

/** The pieces the platform plugs in; index.ts passes the real ones, tests may pass stand-ins. */
export interface PlatformParts {
  createResourceProviders(ctx: ProviderContext): { routes: Route[]; admin: ProviderAdmin }
  startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster>
  runLookup(req: LookupRequest): Promise<LookupResult>
  /** Extra PostgreSQL roles (e.g. for factories' managed identities) to create in every cluster. */
  extraRoles?(scenario: Scenario): { name: string; password: string }[]
}

const maxBodyBytes = 8 * 1024 * 1024

/** Federated credentials name the GitHub issuer as `{emulator}/github-oidc`: the port is known only now. */
function resolveEmulatorUrl(scenario: Scenario, url: string): void {
  for (const principal of scenario.principals) {
    for (const credential of principal.federatedCredentials ?? []) {
      credential.issuer = credential.issuer.replace(emulatorUrlPlaceholder, url)
    }
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBodyBytes) req.destroy(new Error('request body too large'))
      else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

type ParsedBody = { ok: true; value: unknown } | { ok: false; message: string }

function parseBody(raw: string, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) return { ok: true, value: undefined }
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(raw)) }
  }
  try {
    return { ok: true, value: JSON.parse(raw) }
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
}

function faultResponse(fault: FaultHit, correlationId: string): EmuResponse {
  const retryAfter = (seconds: number | undefined) =>
    seconds === undefined ? undefined : { 'Retry-After': String(seconds) }
  switch (fault.kind) {
    case 'throttle':
      return {
        ...armError(
          429,
          'TooManyRequests',
          'The request is being throttled as the limit has been reached for operation type - Read_ObservationWindow_00:05:00. For more information, refer to - https://aka.ms/srpthrottlinglimits'
        ),
        headers: retryAfter(fault.retryAfterSeconds ?? 1)
      }
    case 'unavailable':
      return {
        ...armError(
          503,
          'ServiceUnavailable',
          'The server (leased) is currently unable to handle the request due to a temporary overloading or maintenance. Please try again later.'
        ),
        headers: retryAfter(fault.retryAfterSeconds)
      }
    default:
      return internalServerError(correlationId)
  }
}

/** Faults answered with an error instead of the request's own answer. */
const answeredFaults = new Set<FaultKind>(['throttle', 'server-error', 'unavailable'])

function internalServerError(correlationId: string): EmuResponse {
  const timestamp = new Date().toISOString().replace(/[-:]|\.\d+/g, '')
  return armError(
    500,
    'InternalServerError',
    `Encountered internal server error. Diagnostic information: timestamp '${timestamp}', tracking id '${randomUUID()}', request correlation id '${correlationId}'.`
  )
}

interface Pipeline {
  router: Router
  identity: Identity
  arm: ArmPlatform
  scenario(): Scenario
}

async function dispatch(
  pipeline: Pipeline,
  emuReq: Omit<EmuRequest, 'params' | 'body'>,
  raw: string
) {
  const match = pipeline.router.match(emuReq.method, emuReq.path)
  if (!match) return { response: pipeline.arm.unknownRoute(emuReq) }
  const { route, params } = match
  const isArm = route.permission !== undefined || route.authenticated === true
  const parsed = parseBody(raw, String(emuReq.headers['content-type'] ?? ''))
  if (!parsed.ok) {
    const response = armError(
      400,
      'InvalidRequestContent',
      `The request content was invalid and could not be deserialized: '${parsed.message}'.`
    )
    return { response }
  }
  const req: EmuRequest = { ...emuReq, params, body: parsed.value }
  if (isArm) {
    const authentication = await pipeline.identity.authenticate(
      req.headers.authorization as string | undefined
    )
    if ('error' in authentication) return { response: authentication.error }
    req.caller = authentication.caller
  }
  const versionRefusal = pipeline.arm.apiVersionRefusal(route, req)
  if (versionRefusal) return { response: versionRefusal, caller: req.caller }
  if (route.permission && req.caller) {
    const caller = req.caller
    const principal = pipeline.scenario().principals.find((p) => p.objectId === caller.objectId)
    const checks = [
      { permission: route.permission, scope: authorizationScope(req.method, req.path) },
      ...[route.alsoRequires?.(req) ?? []].flat()
    ]
    const refused = checks.find(
      ({ permission, scope }) => !principal || !isAuthorized(principal, permission, scope)
    )
    if (refused) {
      return {
        response: authorizationFailed(caller, refused.permission, refused.scope),
        caller
      }
    }
  }
  const missing = isArm ? pipeline.arm.missingContainer(req.path) : undefined
  if (missing) return { response: missing, caller: req.caller }
  const scenario = pipeline.scenario()
  const governed = route.permission
    ? governanceRefusal({ policies: scenario.policies ?? [], locks: scenario.locks ?? [] }, req)
    : undefined
  if (governed) return { response: governed, caller: req.caller }
  return { response: await route.handle(req), caller: req.caller }
}

function send(
  res: ServerResponse,
  response: EmuResponse,
  standardHeaders: Record<string, string>
): void {
  const hasBody = response.body !== undefined && response.status !== 204
  const payload = hasBody ? JSON.stringify(response.body) : ''
  res.writeHead(response.status, {
    ...standardHeaders,
    ...(hasBody ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    'Content-Length': String(Buffer.byteLength(payload)),
    ...response.headers
  })
  res.end(payload)
}

function headerRecord(headers: IncomingMessage['headers']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : (value ?? '')
    ])
  )
}

/** Starts the platform with the given resource providers (and, when asked, real PostgreSQL). */
export async function launchEmulator(
  options: StartEmulatorOptions,
  parts: PlatformParts
): Promise<RunningEmulator> {
  const seed = structuredClone(options.scenario)
  seed.principals.forEach((principal) => principal.roles.forEach(roleDefinitionOf))
  const delays = resolveDelays(seed.delays)
  const log = options.log ?? (() => undefined)
  const dir = await mkdtemp(path.join(options.tempDir ?? os.tmpdir(), 'adf-pg-emulator-'))
  const clusters: PostgresCluster[] = []
  const clusterOf: Record<string, PostgresCluster> = {}
  let server: Server | undefined
  try {
    const ca = await createCertificateAuthority(dir)
    const certificate = await ca.issue(['localhost'], ['127.0.0.1'])
    const postgres: Record<string, PostgresAddress> = {}
    if (options.postgres ?? true) {
      const extraRoles = parts.extraRoles?.(seed) ?? []
      const started = await Promise.allSettled(
        seed.servers.map(async (serverSeed) => {
          const roles = [
            ...serverSeed.roles,
            ...extraRoles.filter(
              (extra) => !serverSeed.roles.some((role) => role.name === extra.name)
            )
          ]
          const cluster = await parts.startPostgresCluster({
            ca,
            serverName: serverFqdn(serverSeed),
            databases: serverSeed.databases,
            roles,
            log
          })
          clusters.push(cluster)
          clusterOf[serverResourceId(serverSeed).toLowerCase()] = cluster
          postgres[serverResourceId(serverSeed).toLowerCase()] = cluster.address
        })
      )
      const failure = started.find((result) => result.status === 'rejected')
      if (failure) throw failure.reason
    }

    const requestHandler: { current?: (req: IncomingMessage, res: ServerResponse) => void } = {}
    server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) =>
      requestHandler.current?.(req, res)
    )
    const listening = server
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen(options.port ?? 0, '127.0.0.1', () => resolve())
    })
    const url = `https://127.0.0.1:${(listening.address() as AddressInfo).port}`
    resolveEmulatorUrl(seed, url)

    let live = structuredClone(seed)
    const router = new Router()
    const identity = await createIdentity({ baseUrl: url, scenario: () => live, delays })
    const githubApi = createGitHubApi()
    const arm = createArmPlatform({ baseUrl: url, scenario: () => live, router })
    const faults = new FaultInjector()
    const requestLog = new RequestLog()
    const secrets = () => scenarioSecrets(live)
    let providers: ProviderAdmin

    function serverId(nameOrId: string): string {
      const found = live.servers.find(
        (candidate) =>
          candidate.name.toLowerCase() === nameOrId.toLowerCase() ||
          serverResourceId(candidate).toLowerCase() === nameOrId.toLowerCase()
      )
      if (!found) throw new AdminError(404, `No server '${nameOrId}' in the scenario`)
      return serverResourceId(found)
    }

    const setState =
      (status: 'Approved' | 'Rejected' | 'Disconnected') =>
      (selector: Parameters<EmulatorAdmin['approve']>[0]) => {
        const id = serverId(selector.server)
        const name = selectConnection(providers.listConnections(id), selector)
        return providers.setConnectionState(
          id,
          name,
          status,
          selector.description ?? `${status} by the emulator's DBA`
        )
      }

    function seedProviders(): void {
      const created = parts.createResourceProviders({
        scenario: live,
        delays,
        postgresAddress: (id) => postgres[id.toLowerCase()],
        runLookup: parts.runLookup,
        caPem: ca.certPem
      })
      providers = created.admin
      router.replace([
        ...identity.routes,
        ...githubApi.routes,
        ...arm.routes,
        ...created.routes,
        ...adminRoutes(admin, info)
      ])
    }

    const admin: EmulatorAdmin = {
      approve: setState('Approved'),
      reject: setState('Rejected'),
      disconnect: setState('Disconnected'),
      listConnections: (server) => providers.listConnections(serverId(server)),
      deleteConnection(selector) {
        const id = serverId(selector.server)
        providers.deleteConnection(id, selectConnection(providers.listConnections(id), selector))
      },
      recreateServer: (server) => providers.recreateServer(serverId(server)),
      async setRolePassword({ server, role, password }) {
        const id = serverId(server)
        const cluster = clusterOf[id.toLowerCase()]
        if (!cluster)
          throw new AdminError(409, 'This emulator runs no PostgreSQL (postgres: false)')
        await cluster.setRolePassword(role, password)
        // The role's password is a scenario secret: snapshots and request logs redact the new one.
        const seeded = live.servers.find((candidate) => serverResourceId(candidate) === id)
        const known = seeded?.roles.find((candidate) => candidate.name === role)
        if (known) known.password = password
      },
      addKeyVaultSecretVersion(secret) {
        const version = secret.version ?? randomUUID().replace(/-/g, '')
        live.keyVaultSecrets = [...(live.keyVaultSecrets ?? []), { ...secret, version }]
        return { version }
      },
      injectFault: (spec) => faults.add(spec),
      faults: () => faults.list(),
      clearFaults: () => faults.clear(),
      requestLog: (filter) => requestLog.list(filter?.since),
      clearRequestLog: () => requestLog.clear(),
      // Providers mask what Azure masks; this also removes any scenario secret that reached the state
      snapshot: () => redact(providers.snapshot(), secrets()),
      async reset() {
        live = structuredClone(seed)
        faults.clear()
        requestLog.clear()
        seedProviders()
      },
      setPolicies(policies) {
        live.policies = structuredClone(policies)
      },
      setLocks(locks) {
        live.locks = structuredClone(locks)
      },
      setPrivateLinkGroups(server, groups) {
        providers.setPrivateLinkGroups(serverId(server), [...groups])
      },
      setKeyVaults(vaults) {
        live.keyVaults = structuredClone(vaults)
      },
      setRoles(clientId, roles) {
        const principal = live.principals.find((candidate) => candidate.clientId === clientId)
        if (!principal) throw new AdminError(404, `No principal with client id '${clientId}'`)
        roles.forEach(roleDefinitionOf)
        principal.roles = structuredClone(roles)
      },
      issueGithubToken: (tokenOptions) => identity.issueGithubToken(tokenOptions),
      async issueAccessToken(clientId, tokenOptions) {
        const principal = live.principals.find((candidate) => candidate.clientId === clientId)
        if (!principal) throw new AdminError(404, `No principal with client id '${clientId}'`)
        return identity.issueAccessToken(principal, tokenOptions)
      }
    }
    const info = () => ({
      url,
      tenantId: live.tenantId,
      caFile: ca.certFile,
      githubIssuer: identity.githubIssuer
    })
    seedProviders()
    const pipeline: Pipeline = { router, identity, arm, scenario: () => live }

    requestHandler.current = (req, res) => {
      const started = performance.now()
      const requestUrl = new URL(req.url ?? '/', url)
      const method = (req.method ?? 'GET').toUpperCase() as HttpMethod
      const correlationId = String(req.headers['x-ms-correlation-request-id'] ?? randomUUID())
      const standardHeaders = {
        'x-ms-request-id': randomUUID(),
        'x-ms-correlation-request-id': correlationId,
        ...(req.headers['x-ms-client-request-id']
          ? { 'x-ms-client-request-id': String(req.headers['x-ms-client-request-id']) }
          : {})
      }
      const isAdmin = requestUrl.pathname.startsWith('/_emulator/')
      const handle = async () => {
        const raw = await readBody(req)
        const fault = isAdmin ? undefined : faults.take(method, requestUrl.pathname)
        if (fault?.kind === 'delay') await sleep(fault.delayMs ?? 0)
        let outcome: { response?: EmuResponse; caller?: { clientId: string } }
        if (fault?.kind === 'drop-connection') {
          req.socket.destroy()
          outcome = {}
        } else if (fault && answeredFaults.has(fault.kind)) {
          outcome = { response: faultResponse(fault, correlationId) }
        } else {
          const emuReq = {
            method,
            path: requestUrl.pathname,
            query: requestUrl.searchParams,
            // An HTTP/1.0 client may omit Host; LRO polling URLs are built from it and must point back here
            headers: { ...req.headers, host: req.headers.host ?? new URL(url).host }
          }
          outcome = await dispatch(pipeline, emuReq, raw).catch((error: unknown) => {
            log(
              `emulator: ${method} ${requestUrl.pathname} failed: ${(error as Error).stack ?? String(error)}`
            )
            return { response: internalServerError(correlationId) }
          })
        }
        // The write is done, but the client sees only a reset: it cannot tell whether it happened.
        const dropAfterWrite = fault?.kind === 'drop-after-write'
        if (dropAfterWrite) req.socket.destroy()
        else if (outcome.response) send(res, outcome.response, standardHeaders)
        const status = dropAfterWrite ? 0 : (outcome.response?.status ?? 0)
        const durationMs = Math.round(performance.now() - started)
        log(
          `${method} ${requestUrl.pathname}${requestUrl.search} → ${status || 'dropped'} (${durationMs} ms)`
        )
        if (isAdmin) return
        const parsed = parseBody(raw, req.headers['content-type'])
        const requestBody = parsed.ok ? parsed.value : raw
        const tokenRequester = (requestBody as { client_id?: unknown } | undefined)?.client_id
        requestLog.record({
          time: new Date().toISOString(),
          method,
          path: requestUrl.pathname,
          query: redact(Object.fromEntries(requestUrl.searchParams), secrets()) as Record<
            string,
            string
          >,
          status,
          durationMs,
          caller:
            outcome.caller?.clientId ??
            (typeof tokenRequester === 'string' ? tokenRequester : undefined),
          ...(fault ? { fault: fault.kind } : {}),
          requestHeaders: redact(headerRecord(req.headers), secrets()) as Record<string, string>,
          requestBody: redact(requestBody, secrets()),
          responseBody: redact(outcome.response?.body, secrets())
        })
      }
      handle().catch((error: unknown) => {
        log(`emulator: ${String(error)}`)
        if (!res.headersSent) send(res, internalServerError(correlationId), standardHeaders)
      })
    }

    let stopped = false
    return {
      url,
      caFile: ca.certFile,
      caPem: ca.certPem,
      tenantId: seed.tenantId,
      env: {
        NODE_EXTRA_CA_CERTS: ca.certFile,
        ACTIONS_ID_TOKEN_REQUEST_URL: identity.githubTokenRequestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: identity.githubTokenRequestToken
      },
      principals: seed.principals,
      github: {
        apiUrl: `${url}${githubApiPath}`,
        writeToken: githubApi.writeToken,
        readOnlyToken: githubApi.readOnlyToken,
        comments: githubApi.comments,
        issues: githubApi.issues
      },
      delays,
      postgres,
      admin,
      async stop() {
        if (stopped) return
        stopped = true
        await closeServer(listening)
        await Promise.allSettled(clusters.map((cluster) => cluster.stop()))
        await rm(dir, { recursive: true, force: true })
      }
    }
  } catch (error) {
    if (server?.listening) await closeServer(server)
    await Promise.allSettled(clusters.map((cluster) => cluster.stop()))
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}
