// Pipeline runs (createRun, status, cancel, activity runs) and the Lookup activity, which reaches the
// PostgreSQL standing for a server only along the path a managed virtual network would allow.
import { createHmac, randomBytes, randomUUID } from 'node:crypto'
import {
  autoResolveRuntimeName,
  entityNotFound,
  type ChildEntity,
  type DataFactoryProvider,
  type FactoryView
} from './datafactory.js'
import { sslModeNumbers } from '../../src/ssl-modes.js'
import { armError } from './arm-errors.js'
import { sleep } from './delays.js'
import type { PostgresProvider } from './postgres-flexible.js'
import { sameText } from './router.js'
import type {
  EmuRequest,
  EmuResponse,
  FactorySeed,
  KeyVaultSecretSeed,
  ProviderContext,
  Route
} from './types.js'

/** Known only to this process: the factories' managed identities sign in with passwords derived from it. */
const identitySecret = randomBytes(32)

/** The PostgreSQL role a factory's system-assigned identity signs in as. */
export function managedIdentityRole(factory: FactorySeed): string {
  return factory.identityPostgresRole ?? factory.name
}

/** The password standing for the factory identity's Entra token (never in the scenario file). */
export function managedIdentityPassword(factory: FactorySeed): string {
  const factoryKey =
    `${factory.subscriptionId}/${factory.resourceGroup}/${factory.name}`.toLowerCase()
  return createHmac('sha256', identitySecret).update(factoryKey).digest('base64url')
}

type RunStatus = 'Queued' | 'InProgress' | 'Succeeded' | 'Failed' | 'Cancelled'
type ActivityOutcome =
  { ok: true; output: Record<string, unknown> } | { ok: false; errorCode: string; message: string }

interface ActivityRunRecord {
  activityRunId: string
  activityName: string
  activityType: string
  status: Exclude<RunStatus, 'Queued'>
  start: number
  end?: number
  input: unknown
  output: Record<string, unknown>
  error?: { errorCode: string; message: string }
}

interface PipelineRunRecord {
  runId: string
  factoryId: string
  pipelineName: string
  parameters: Record<string, unknown>
  status: RunStatus
  message: string
  start: number
  end?: number
  lastUpdated: number
  activities: ActivityRunRecord[]
}

interface Activity {
  name: string
  type: string
  typeProperties?: Record<string, unknown>
}

interface KeyVaultReference {
  store?: { referenceName?: string }
  secretName?: string
  secretVersion?: string
}

const pipelineRunPermission = 'Microsoft.DataFactory/factories/pipelineruns'
const defaultPort = 5432
const defaultConnectTimeoutSeconds = 30
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

function failure(errorCode: string, message: string): ActivityOutcome {
  return { ok: false, errorCode, message }
}

/** How Data Factory reports a failure inside the PostgreSQL connector. */
function connectorFailure(errorType: string, message: string): ActivityOutcome {
  return failure(
    '2200',
    `Failure happened on 'Source' side. ErrorCode=${errorType},'Type=Microsoft.DataTransfer.Common.Shared.HybridDeliveryException,Message=${message},Source=Microsoft.DataTransfer.Connectors.AzurePostgreSql,'`
  )
}

const invalidDefinition = (message: string) => failure('2011', message)

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

function referenceName(value: unknown): string | undefined {
  const name = asRecord(value).referenceName
  return typeof name === 'string' ? name : undefined
}

function normalizeVaultUrl(url: string): string {
  return url.toLowerCase().replace(/\/+$/, '')
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

export function createPipelineRuns(options: {
  ctx: ProviderContext
  dataFactory: DataFactoryProvider
  postgres: PostgresProvider
}): { routes: Route[]; snapshot(): unknown[] } {
  const { ctx, dataFactory, postgres } = options
  const { delays } = ctx
  const runs = new Map<string, PipelineRunRecord>()

  function resolveKeyVaultSecret(
    factory: FactoryView,
    reference: KeyVaultReference
  ): { secret: string } | { failure: ActivityOutcome } {
    const storeName = referenceName(reference.store) ?? ''
    const store = factory.child('linkedservices', storeName)
    const baseUrl = asRecord(store?.properties.typeProperties).baseUrl
    if (!store || store.properties.type !== 'AzureKeyVault' || typeof baseUrl !== 'string') {
      return {
        failure: invalidDefinition(
          `The Azure Key Vault linked service '${storeName}' referenced by the password does not exist or is not of type AzureKeyVault.`
        )
      }
    }
    const secretName = reference.secretName ?? ''
    const versions = (ctx.scenario.keyVaultSecrets ?? []).filter(
      (secret) =>
        normalizeVaultUrl(secret.vaultBaseUrl) === normalizeVaultUrl(baseUrl) &&
        sameText(secret.name, secretName)
    )
    const secret = reference.secretVersion
      ? versions.find((candidate) => candidate.version === reference.secretVersion)
      : versions.at(-1)
    // Data Factory's wording; Key Vault checks access before it looks for the secret.
    const failed = (reason: string) => ({
      failure: failure(
        '2200',
        `Failed to get the secret from key vault, secretName: ${secretName}, secretVersion: ${reference.secretVersion ?? ''}, vaultBaseUrl: ${baseUrl}. The error message is: ${reason}`
      )
    })
    const vault = (ctx.scenario.keyVaults ?? []).find(
      (candidate) => normalizeVaultUrl(candidate.vaultBaseUrl) === normalizeVaultUrl(baseUrl)
    )
    // A vault that denies public access answers only through a private endpoint: for a factory, a
    // managed one from its managed VNet. Key Vault's own words (code Forbidden, innererror
    // ForbiddenByFirewall) as people quote them; Data Factory's wrapping of them is a modelling choice.
    if (
      vault?.publicNetworkAccess === 'Disabled' &&
      !factory.hasApprovedEndpointTo(vault.id, Date.now())
    ) {
      const vaultName = new URL(baseUrl).hostname.split('.')[0]
      return failed(
        `Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.10\r\nCaller: appid=${factory.seed.name};providers/Microsoft.DataFactory/factories/${factory.seed.name}\r\nVault: ${vaultName};location=${factory.seed.location} (ForbiddenByFirewall)`
      )
    }
    const readable = (candidate: KeyVaultSecretSeed) =>
      !candidate.readers || candidate.readers.some((reader) => sameText(reader, factory.seed.name))
    if (versions.length > 0 && !versions.some(readable)) {
      return failed("Operation returned an invalid status code 'Forbidden'.")
    }
    if (!secret) {
      return failed(
        `A secret with (name/id) ${secretName} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`
      )
    }
    return { secret: secret.value }
  }

  function resolveCredentials(
    factory: FactoryView,
    typeProperties: Record<string, unknown>
  ): { user: string; password: string } | { failure: ActivityOutcome } {
    const authenticationType = typeProperties.authenticationType ?? 'BasicAuth'
    if (authenticationType === 'SystemAssignedManagedIdentity') {
      return {
        user: managedIdentityRole(factory.seed),
        password: managedIdentityPassword(factory.seed)
      }
    }
    if (authenticationType !== 'BasicAuth') {
      return {
        failure: invalidDefinition(
          `The authentication type '${String(authenticationType)}' is not supported by the emulator; use BasicAuth or SystemAssignedManagedIdentity.`
        )
      }
    }
    const user = typeof typeProperties.username === 'string' ? typeProperties.username : ''
    const password = typeProperties.password
    if (typeof password === 'string') return { user, password }
    const secureValue = asRecord(password)
    if (secureValue.type === 'AzureKeyVaultSecret') {
      const resolved = resolveKeyVaultSecret(factory, secureValue as KeyVaultReference)
      return 'failure' in resolved ? resolved : { user, password: resolved.secret }
    }
    return { user, password: typeof secureValue.value === 'string' ? secureValue.value : '' }
  }

  function lookupQuery(source: Record<string, unknown>, dataset: ChildEntity): string {
    if (typeof source.query === 'string') return source.query
    const table = asRecord(dataset.properties.typeProperties)
    const tableName = typeof table.table === 'string' ? table.table : String(table.tableName ?? '')
    const schema = typeof table.schema === 'string' ? `${quoteIdentifier(table.schema)}.` : ''
    return `SELECT * FROM ${schema}${quoteIdentifier(tableName)}`
  }

  async function runLookup(factory: FactoryView, activity: Activity): Promise<ActivityOutcome> {
    const typeProperties = asRecord(activity.typeProperties)
    const datasetName = referenceName(typeProperties.dataset) ?? ''
    const dataset = factory.child('datasets', datasetName)
    if (!dataset) return invalidDefinition(`The dataset '${datasetName}' does not exist.`)
    if (dataset.properties.type !== 'AzurePostgreSqlTable') {
      return invalidDefinition(
        `The dataset '${dataset.name}' is of type '${String(dataset.properties.type)}'; an AzurePostgreSqlSource needs an AzurePostgreSqlTable dataset.`
      )
    }
    const linkedServiceName = referenceName(dataset.properties.linkedServiceName) ?? ''
    const linkedService = factory.child('linkedservices', linkedServiceName)
    if (!linkedService || linkedService.properties.type !== 'AzurePostgreSql') {
      return invalidDefinition(
        `The linked service '${linkedServiceName}' does not exist or is not of type AzurePostgreSql.`
      )
    }
    const connection = asRecord(linkedService.properties.typeProperties)
    const runtimeName = referenceName(linkedService.properties.connectVia) ?? autoResolveRuntimeName
    const runtime = factory.integrationRuntime(runtimeName)
    if (!runtime)
      return invalidDefinition(`The integration runtime '${runtimeName}' does not exist.`)
    const credentials = resolveCredentials(factory, connection)
    if ('failure' in credentials) return credentials.failure

    const serverName = typeof connection.server === 'string' ? connection.server : ''
    const port = Number(connection.port ?? defaultPort) || defaultPort
    const connectTimeoutSeconds = Number(connection.timeout) || defaultConnectTimeoutSeconds
    const server = postgres.findServerByFqdn(serverName)
    const reachable =
      runtime.managedVirtualNetwork !== undefined &&
      server !== undefined &&
      factory.hasApprovedEndpointTo(server.id, Date.now())
    if (!reachable || !server) {
      await sleep(delays.blockedNetworkTimeoutMs)
      return connectorFailure(
        'AzurePostgreSqlNpgsqlConnectionFailed',
        `Failed to connect to ${serverName}:${port}. Exception while connecting: The operation has timed out after ${connectTimeoutSeconds} seconds (the server is not reachable from the network of integration runtime '${runtime.name}'; a managed private endpoint to it must be approved and in use by an integration runtime in the managed virtual network).`
      )
    }
    const address = ctx.postgresAddress(server.id)
    if (!address) {
      return connectorFailure(
        'AzurePostgreSqlNpgsqlConnectionFailed',
        `Failed to connect to ${serverName}:${port}. Exception while connecting: Connection refused.`
      )
    }
    const result = await ctx.runLookup({
      address,
      serverName: server.fullyQualifiedDomainName,
      database: typeof connection.database === 'string' ? connection.database : 'postgres',
      user: credentials.user,
      password: credentials.password,
      // Data Factory's default when the linked service names none.
      sslMode: Number(connection.sslMode ?? sslModeNumbers.prefer),
      query: lookupQuery(asRecord(typeProperties.source), dataset),
      caPem: ctx.caPem,
      timeoutMs: connectTimeoutSeconds * 1000
    })
    if (!result.ok) return failure(result.errorCode, result.message)
    return {
      ok: true,
      output: {
        firstRow: result.firstRow,
        effectiveIntegrationRuntime: `${runtime.name} (${factory.seed.location})`
      }
    }
  }

  function runActivity(factory: FactoryView, activity: Activity): Promise<ActivityOutcome> {
    if (activity.type !== 'Lookup') {
      return Promise.resolve(
        invalidDefinition(
          `The activity type '${activity.type}' is not supported by the emulator; use Lookup.`
        )
      )
    }
    return runLookup(factory, activity)
  }

  function finish(run: PipelineRunRecord, status: RunStatus, message: string): void {
    const now = Date.now()
    run.status = status
    run.message = message
    run.end = now
    run.lastUpdated = now
  }

  async function execute(run: PipelineRunRecord, factory: FactoryView, activities: Activity[]) {
    await sleep(delays.pipelineQueuedMs)
    if (run.status !== 'Queued') return
    run.status = 'InProgress'
    run.lastUpdated = Date.now()
    const isCancelled = () => run.status === 'Cancelled'
    for (const activity of activities) {
      const record: ActivityRunRecord = {
        activityRunId: randomUUID(),
        activityName: activity.name,
        activityType: activity.type,
        status: 'InProgress',
        start: Date.now(),
        input: activity.typeProperties ?? {},
        output: {}
      }
      run.activities.push(record)
      const outcome = await runActivity(factory, activity).catch((error: unknown) =>
        failure('2200', error instanceof Error ? error.message : String(error))
      )
      record.end = Date.now()
      if (isCancelled()) {
        record.status = 'Cancelled'
        return
      }
      if (!outcome.ok) {
        record.status = 'Failed'
        record.error = { errorCode: outcome.errorCode, message: outcome.message }
        finish(run, 'Failed', `Operation on target ${activity.name} failed: ${outcome.message}`)
        return
      }
      record.status = 'Succeeded'
      record.output = outcome.output
      run.lastUpdated = record.end
    }
    finish(run, 'Succeeded', '')
  }

  /**
   * A pipeline run as Data Factory answers it (pwsh-datafactory_pipelinerun-get-queued.json,
   * …-failed.json): the id upper-cased up to the factory name; runEnd, durationInMs and message
   * null until the run ends.
   */
  function runBody(run: PipelineRunRecord) {
    const ended = run.end !== undefined
    return {
      id: `${run.factoryId.toUpperCase()}/pipelineruns/${run.runId}`,
      runId: run.runId,
      debugRunId: null,
      runGroupId: run.runId,
      pipelineName: run.pipelineName,
      parameters: run.parameters,
      invokedBy: { id: run.runId.replace(/-/g, ''), name: 'Manual', invokedByType: 'Manual' },
      runStart: iso(run.start),
      runEnd: ended ? iso(run.end) : null,
      durationInMs: ended ? (run.end ?? run.start) - run.start : null,
      status: run.status,
      message: ended ? run.message : null,
      lastUpdated: iso(run.lastUpdated),
      annotations: [],
      runDimension: {},
      isLatest: true
    }
  }

  function activityBody(run: PipelineRunRecord, activity: ActivityRunRecord) {
    return {
      activityRunId: activity.activityRunId,
      activityName: activity.activityName,
      activityType: activity.activityType,
      pipelineName: run.pipelineName,
      pipelineRunId: run.runId,
      linkedServiceName: '',
      status: activity.status,
      activityRunStart: iso(activity.start),
      activityRunEnd: iso(activity.end),
      durationInMs: activity.end === undefined ? undefined : activity.end - activity.start,
      input: activity.input,
      output: activity.output,
      error: {
        errorCode: activity.error?.errorCode ?? '',
        message: activity.error?.message ?? '',
        failureType: activity.error ? 'UserError' : '',
        target: activity.activityName
      },
      retryAttempt: null,
      userProperties: {}
    }
  }

  /** RunFilterParameters' required window, or the 400 Data Factory answers without it. */
  function updateWindow(req: EmuRequest): { after: number; before: number } | EmuResponse {
    const filter = asRecord(req.body)
    const after = Date.parse(String(filter.lastUpdatedAfter))
    const before = Date.parse(String(filter.lastUpdatedBefore))
    if (Number.isNaN(after) || Number.isNaN(before)) {
      return armError(
        400,
        'BadRequest',
        "The request must specify both 'lastUpdatedAfter' and 'lastUpdatedBefore' as dates."
      )
    }
    return { after, before }
  }

  function findRun(factory: FactoryView, runId: string): PipelineRunRecord | undefined {
    const run = runs.get(runId.toLowerCase())
    return run && sameText(run.factoryId, factory.id) ? run : undefined
  }

  /** The subset of RunQueryFilter that a caller looking for its own runs uses. */
  function matchesFilters(run: PipelineRunRecord, filters: unknown): boolean {
    const fields: Record<string, string> = {
      PipelineName: run.pipelineName,
      Status: run.status,
      RunId: run.runId
    }
    return (Array.isArray(filters) ? filters : []).every((filter: unknown) => {
      const { operand, operator, values } = asRecord(filter)
      const field = fields[String(operand)]
      if (field === undefined || !Array.isArray(values)) return true
      const listed = values.some((value) => sameText(String(value), field))
      return operator === 'NotEquals' || operator === 'NotIn' ? !listed : listed
    })
  }

  const routes = [
    dataFactory.factoryRoute(
      'POST',
      '/pipelines/:pipelineName/createRun',
      // Azure's name (permissions/analytics): the action belongs to the pipeline, not the factory.
      'Microsoft.DataFactory/factories/pipelines/createrun/action',
      (factory, req) => {
        const pipeline = factory.child('pipelines', req.params.pipelineName)
        if (!pipeline) return entityNotFound(`${factory.id}/pipelines/${req.params.pipelineName}`)
        const now = Date.now()
        const run: PipelineRunRecord = {
          runId: randomUUID(),
          factoryId: factory.id,
          pipelineName: pipeline.name,
          parameters: asRecord(req.body),
          status: 'Queued',
          message: '',
          start: now,
          lastUpdated: now,
          activities: []
        }
        runs.set(run.runId, run)
        const activities = pipeline.properties.activities
        void execute(run, factory, Array.isArray(activities) ? (activities as Activity[]) : [])
        return { status: 200, body: { runId: run.runId } }
      }
    ),
    dataFactory.factoryRoute(
      'GET',
      '/pipelineruns/:runId',
      `${pipelineRunPermission}/read`,
      (factory, { params }) => {
        const run = findRun(factory, params.runId)
        return run
          ? { status: 200, body: runBody(run) }
          : entityNotFound(`${factory.id}/pipelineruns/${params.runId}`)
      }
    ),
    dataFactory.factoryRoute(
      'POST',
      '/pipelineruns/:runId/cancel',
      `${pipelineRunPermission}/cancel/action`,
      (factory, { params }) => {
        const run = findRun(factory, params.runId)
        if (!run) return entityNotFound(`${factory.id}/pipelineruns/${params.runId}`)
        if (run.status === 'Queued' || run.status === 'InProgress') {
          finish(run, 'Cancelled', 'The pipeline run was cancelled.')
          for (const activity of run.activities) {
            if (activity.status === 'InProgress') {
              activity.status = 'Cancelled'
              activity.end = run.end
            }
          }
        }
        return { status: 200 }
      }
    ),
    dataFactory.factoryRoute(
      'POST',
      '/pipelineruns/:runId/queryActivityruns',
      `${pipelineRunPermission}/queryactivityruns/action`,
      (factory, req) => {
        const run = findRun(factory, req.params.runId)
        if (!run) return entityNotFound(`${factory.id}/pipelineruns/${req.params.runId}`)
        const window = updateWindow(req)
        if ('status' in window) return window
        const value = run.activities
          .filter((activity) => {
            const lastUpdated = activity.end ?? activity.start
            return lastUpdated >= window.after && lastUpdated <= window.before
          })
          .map((activity) => activityBody(run, activity))
        return { status: 200, body: { value } }
      }
    ),
    dataFactory.factoryRoute(
      'POST',
      '/queryPipelineRuns',
      'Microsoft.DataFactory/factories/querypipelineruns/action',
      (factory, req) => {
        const window = updateWindow(req)
        if ('status' in window) return window
        const value = [...runs.values()]
          .filter(
            (run) =>
              sameText(run.factoryId, factory.id) &&
              run.lastUpdated >= window.after &&
              run.lastUpdated <= window.before &&
              matchesFilters(run, asRecord(req.body).filters)
          )
          .map(runBody)
        return { status: 200, body: { value } }
      }
    )
  ]

  return {
    routes,
    snapshot: () =>
      [...runs.values()].map((run) => ({
        factoryId: run.factoryId,
        ...runBody(run),
        activityRuns: run.activities.map((activity) => activityBody(run, activity))
      }))
  }
}
