// Builds the two SDK clients, the one place that does: every Azure request goes through their
// pipelines (retries, Retry-After, long-running operations). Also the raw-body reads for fields
// the SDK's models drop.
import {
  DataFactoryManagementClient,
  type DataFactoryManagementClientOptionalParams
} from '@azure/arm-datafactory'
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible'
import type { TokenCredential } from '@azure/identity'
import type { Logger } from '../io.js'
import type { Settings } from '../settings.js'

const userAgentPrefix = 'GitHubActions/adf-pg-private-link'

export interface AzureClients {
  dataFactory: DataFactoryManagementClient
  /** For the server's subscription, which may differ from the factory's. */
  postgres: PostgreSQLManagementFlexibleServerClient
}

/** Carries a connection's private endpoint id from an approval call to the policy below; never sent. */
export const privateEndpointIdHeader = 'x-adf-pg-private-link-private-endpoint-id'

type PipelinePolicy = NonNullable<
  DataFactoryManagementClientOptionalParams['additionalPolicies']
>[number]['policy']

/**
 * A pipeline policy that writes one debug line per ARM request as it goes on the wire (each retry and
 * long-running-operation poll too): `ARM <method> <path> api-version=<v> → <status> in <ms> ms`, plus
 * Azure's `x-ms-request-id` when present. Never a body, a header or another query value (a skip token or
 * signature may be one). `log.debug` writes only under step debug logging (ACTIONS_STEP_DEBUG).
 */
export function requestLogPolicy(log: Pick<Logger, 'debug'>, now = Date.now): PipelinePolicy {
  return {
    name: 'adfPgPrivateLinkRequestLog',
    async sendRequest(request, next) {
      const url = new URL(request.url)
      const apiVersion = url.searchParams.get('api-version')
      const line = `ARM ${request.method} ${url.pathname}${apiVersion ? ` api-version=${apiVersion}` : ''}`
      const started = now()
      try {
        const response = await next(request)
        const requestId = response.headers.get('x-ms-request-id')
        log.debug(
          `${line} → ${response.status} in ${now() - started} ms` +
            (requestId ? ` (request id ${requestId})` : '')
        )
        return response
      } catch (error) {
        // A response the pipeline turned into an error is logged above; this is no response at all
        const code = (error as { code?: unknown }).code
        log.debug(`${line} → no response (${String(code ?? 'error')}) in ${now() - started} ms`)
        throw error
      }
    }
  }
}

/**
 * Puts `properties.privateEndpoint.id` back into a connection update's body. The SDK's model marks
 * it read-only and drops it, but Azure Policy rules read it from the request: the Cloud Adoption
 * Framework's "deny cross-tenant private endpoint connections" rule denies an approval whose body
 * lacks it (learn.microsoft.com/azure/cloud-adoption-framework/ready/azure-best-practices/
 * limit-cross-tenant-private-endpoint-connections).
 */
const privateEndpointIdPolicy: PipelinePolicy = {
  name: 'adfPgPrivateEndpointIdInApproval',
  sendRequest(request, next) {
    const id = request.headers.get(privateEndpointIdHeader)
    request.headers.delete(privateEndpointIdHeader)
    if (id && typeof request.body === 'string') {
      const body = JSON.parse(request.body) as { properties?: Record<string, unknown> }
      body.properties = { ...body.properties, privateEndpoint: { id } }
      request.body = JSON.stringify(body)
    }
    return next(request)
  }
}

/** The two SDK clients for the cloud the inputs name; every request they send is logged by requestLogPolicy. */
export function createClients(
  settings: Settings,
  credential: TokenCredential,
  log: Pick<Logger, 'debug'>
): AzureClients {
  const endpoint = settings.signIn.cloud.resourceManagerEndpoint
  const options: DataFactoryManagementClientOptionalParams = {
    endpoint,
    $host: endpoint,
    credentialScopes: [`${endpoint}/.default`],
    userAgentOptions: { userAgentPrefix },
    // Per retry: each attempt on the wire is a line of its own, with its own status and duration
    additionalPolicies: [{ policy: requestLogPolicy(log), position: 'perRetry' }]
  }
  const postgres = new PostgreSQLManagementFlexibleServerClient(
    credential,
    settings.server.subscriptionId,
    options
  )
  // After serialization (no phase = between Serialize and Retry), so retries keep the body.
  postgres.pipeline.addPolicy(privateEndpointIdPolicy)
  return {
    dataFactory: new DataFactoryManagementClient(
      credential,
      settings.factory.subscriptionId,
      options
    ),
    postgres
  }
}

/** The part of the SDK's raw response this action reads. */
interface RawResponse {
  status: number
  parsedBody?: unknown
  bodyAsText?: string | null
}

/** The SDK option that hands over each raw response. */
export interface RawResponseOption {
  onResponse: (raw: RawResponse) => void
}

/**
 * Runs an SDK call and also returns the JSON body as Azure sent it: the SDK's models drop
 * fields they do not know (the AzurePostgreSql v2 typeProperties).
 */
export async function withRawBody<T>(
  call: (options: RawResponseOption) => Promise<T>
): Promise<{ value: T; body: unknown }> {
  let body: unknown
  const value = await call({
    onResponse: (raw) => {
      // parsedBody is the SDK's deserialized model by now: only bodyAsText keeps what Azure sent.
      body = raw.bodyAsText ? JSON.parse(raw.bodyAsText) : raw.parsedBody
    }
  })
  return { value, body }
}

/** The raw `value` items of every page of an SDK list call (models drop unknown fields). */
export async function listRawItems(
  call: (options: RawResponseOption) => AsyncIterable<unknown>
): Promise<unknown[]> {
  const items: unknown[] = []
  await listAll(
    call({
      onResponse: (raw) => {
        const body = (raw.bodyAsText ? JSON.parse(raw.bodyAsText) : (raw.parsedBody ?? {})) as {
          value?: unknown[]
        }
        items.push(...(body.value ?? []))
      }
    })
  )
  return items
}

/** Every item of a paged SDK list. */
export async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of pages) items.push(item)
  return items
}
