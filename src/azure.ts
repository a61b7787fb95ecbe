// Signs in and builds the two SDK clients; every Azure request goes through their pipelines
// (retries, Retry-After, long-running operations).
import { DataFactoryManagementClient } from '@azure/arm-datafactory'
import { PostgreSQLManagementFlexibleServerClient } from '@azure/arm-postgresql-flexible'
import {
  AzureCliCredential,
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type AccessToken,
  type TokenCredential
} from '@azure/identity'
import { ActionError } from './errors.js'
import type { Logger } from './io.js'
import type { AuthMethod, Settings, SignInSettings } from './settings.js'

const userAgentPrefix = 'GitHubActions/adf-pg-private-link'

export interface AuthChoice {
  method: AuthMethod
  reason: string
}

/** Resolves `auth: auto` from the inputs and the runner's environment. */
export function chooseAuthMethod(signIn: SignInSettings, env: NodeJS.ProcessEnv): AuthChoice {
  const oidcAvailable = Boolean(
    env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  )
  if (signIn.requested === 'oidc' && !oidcAvailable) {
    throw new ActionError('auth is oidc but GitHub offers no OIDC token to this job.', {
      hint: "Add 'permissions: id-token: write' to the workflow or job (pull requests from forks never get one)."
    })
  }
  if (signIn.requested !== 'auto') {
    return { method: signIn.requested, reason: `auth is '${signIn.requested}'` }
  }
  if (signIn.clientId && signIn.tenantId && oidcAvailable) {
    return { method: 'oidc', reason: 'client-id, tenant-id and a GitHub OIDC token are available' }
  }
  if (signIn.clientSecret) {
    return { method: 'client-secret', reason: 'client-secret is given' }
  }
  return {
    method: 'azure-cli',
    reason:
      'no OIDC token (id-token: write) or client-secret: using the Azure CLI session (azure/login)'
  }
}

/** Reuse a token until this long before it expires. */
const tokenRefreshMarginMs = 5 * 60_000

/**
 * One token per scope for both SDK clients (each client's bearer policy caches on its own, and
 * MSAL asks for a client assertion before looking at its cache): fewer GitHub ID-token requests.
 */
export function sharedTokenCache(credential: TokenCredential, now = Date.now): TokenCredential {
  const tokens = new Map<string, { token: Promise<AccessToken | null>; expiresOn?: number }>()
  return {
    getToken(scopes, options) {
      // A claims challenge (CAE) asks for a new token on purpose.
      if (options?.claims) return credential.getToken(scopes, options)
      const key = [scopes].flat().join(' ')
      const entry = tokens.get(key)
      const inFlightOrFresh =
        entry && (entry.expiresOn === undefined || entry.expiresOn - tokenRefreshMarginMs > now())
      if (inFlightOrFresh) return entry.token
      const next: { token: Promise<AccessToken | null>; expiresOn?: number } = {
        token: credential.getToken(scopes, options)
      }
      tokens.set(key, next)
      const forget = (): void => void (tokens.get(key) === next && tokens.delete(key))
      next.token.then((token) => {
        if (token) next.expiresOn = token.expiresOnTimestamp
        else forget()
      }, forget)
      return next.token
    }
  }
}

/** `fetchIdToken` is called on every token request, so waits longer than a GitHub token's life work. */
export function createCredential(
  method: AuthMethod,
  signIn: SignInSettings,
  fetchIdToken: (audience: string) => Promise<string>
): TokenCredential {
  const options = {
    authorityHost: signIn.cloud.authorityHost,
    disableInstanceDiscovery: signIn.cloud.customAuthorityHost
  }
  const clientId = signIn.clientId ?? ''
  const tenantId = signIn.tenantId ?? ''
  switch (method) {
    case 'oidc':
      return new ClientAssertionCredential(
        tenantId,
        clientId,
        () => fetchIdToken(signIn.cloud.oidcAudience),
        options
      )
    case 'client-secret':
      return new ClientSecretCredential(tenantId, clientId, signIn.clientSecret ?? '', options)
    case 'managed-identity':
      return signIn.clientId
        ? new ManagedIdentityCredential({ clientId: signIn.clientId })
        : new ManagedIdentityCredential()
    case 'azure-cli':
      return new AzureCliCredential(signIn.tenantId ? { tenantId: signIn.tenantId } : {})
  }
}

export interface AzureClients {
  dataFactory: DataFactoryManagementClient
  /** For the server's subscription, which may differ from the factory's. */
  postgres: PostgreSQLManagementFlexibleServerClient
}

export function createClients(settings: Settings, credential: TokenCredential): AzureClients {
  const endpoint = settings.signIn.cloud.resourceManagerEndpoint
  const options = {
    endpoint,
    $host: endpoint,
    credentialScopes: [`${endpoint}/.default`],
    userAgentOptions: { userAgentPrefix }
  }
  return {
    dataFactory: new DataFactoryManagementClient(
      credential,
      settings.factory.subscriptionId,
      options
    ),
    postgres: new PostgreSQLManagementFlexibleServerClient(
      credential,
      settings.server.subscriptionId,
      options
    )
  }
}

export function logSignIn(choice: AuthChoice, settings: Settings, log: Logger): void {
  const { cloud } = settings.signIn
  log.info(
    `Signing in with ${choice.method} (${choice.reason}); cloud ${cloud.name}, Resource Manager ${cloud.resourceManagerEndpoint}, authority ${cloud.authorityHost}.`
  )
}

/** The part of the SDK's raw response this action reads. */
interface RawResponse {
  status: number
  parsedBody?: unknown
  bodyAsText?: string | null
}

/**
 * Runs an SDK call and also returns the JSON body as Azure sent it: the SDK's models drop
 * fields they do not know (the AzurePostgreSql v2 typeProperties).
 */
export async function withRawBody<T>(
  call: (options: { onResponse: (raw: RawResponse) => void }) => Promise<T>
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
  call: (options: { onResponse: (raw: RawResponse) => void }) => AsyncIterable<unknown>
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
