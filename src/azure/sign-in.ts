// Sign-in: which credential the inputs ask for, one token per scope for both clients, and a
// refused sign-in explained (what was presented, the cause and the fix).
import {
  AzureCliCredential,
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type AccessToken,
  type TokenCredential
} from '@azure/identity'
import { ActionError, CancelledError } from '../errors.js'
import { explain, hintOf, signalFromMessage, type FailureFacts } from '../failures.js'
import type { Logger } from '../io.js'
import type { StepOutcome } from '../report.js'
import type { AuthMethod, Settings, SignInSettings } from '../settings.js'

export interface AuthChoice {
  method: AuthMethod
  reason: string
  /** auth auto fell back although client-id and tenant-id ask for OIDC: no id-token: write. */
  idTokenMissing?: boolean
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
      'no OIDC token (id-token: write) or client-secret: using the Azure CLI session (azure/login)',
    idTokenMissing: Boolean(signIn.clientId && signIn.tenantId)
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

export function logSignIn(choice: AuthChoice, settings: Settings, log: Logger): void {
  const { cloud } = settings.signIn
  log.info(
    `Signing in with ${choice.method} (${choice.reason}); cloud ${cloud.name}, Resource Manager ${cloud.resourceManagerEndpoint}, authority ${cloud.authorityHost}.`
  )
}

/** The claims of the last GitHub ID token handed to Entra ID (never the token itself). */
export interface PresentedClaims {
  subject?: string
  audience?: string
}

/** A JWT's payload claims; empty when it is not a JWT. */
function payloadOf(jwt: string): Record<string, unknown> {
  try {
    const payload: unknown = JSON.parse(
      Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()
    )
    return payload !== null && typeof payload === 'object'
      ? (payload as Record<string, unknown>)
      : {}
  } catch {
    return {}
  }
}

/** The subject and audience of a JWT's payload; empty when it is not a JWT. */
export function claimsOf(jwt: string): PresentedClaims {
  const payload = payloadOf(jwt)
  const audience = [payload.aud].flat().filter((value) => typeof value === 'string')
  return {
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
    audience: audience.length ? audience.join(',') : undefined
  }
}

/** Seconds since the epoch when a JWT expires (its `exp`), or undefined when it says none. */
function expiryOf(jwt: string): number | undefined {
  const { exp } = payloadOf(jwt)
  return typeof exp === 'number' ? exp : undefined
}

/** An ID token is reused until this long before its `exp`, so Entra ID never gets an expired one. */
const idTokenReuseMarginMs = 60_000

/**
 * Wraps the ID-token source so a failed sign-in can say which subject and audience it presented,
 * and so one GitHub ID token serves every assertion MSAL asks for while it is valid (MSAL asks
 * twice per token exchange: once to build the client, once for the request).
 */
export function watchIdTokens(
  fetchIdToken: (audience: string) => Promise<string>,
  now = Date.now
): {
  fetch: (audience: string) => Promise<string>
  presented: () => PresentedClaims
} {
  let presented: PresentedClaims = {}
  const tokens = new Map<string, { token: Promise<string>; expiresAtMs?: number }>()
  return {
    fetch: async (audience) => {
      const cached = tokens.get(audience)
      const reusable =
        cached &&
        (cached.expiresAtMs === undefined || cached.expiresAtMs - idTokenReuseMarginMs > now())
      const entry = reusable ? cached : { token: fetchIdToken(audience) }
      if (!reusable) tokens.set(audience, entry)
      try {
        const token = await entry.token
        const exp = expiryOf(token)
        // A token without `exp` is not reused: nothing says how long it is valid.
        if (exp === undefined) tokens.delete(audience)
        else entry.expiresAtMs = exp * 1000
        presented = claimsOf(token)
        return token
      } catch (error) {
        if (tokens.get(audience) === entry) tokens.delete(audience)
        throw error
      }
    },
    presented: () => presented
  }
}

/** Who signed in where, as the Sign-in row and its failure name it. */
export function signInFacts(
  choice: AuthChoice,
  signIn: SignInSettings,
  presented: PresentedClaims
): FailureFacts {
  const { cloud } = signIn
  const oidc = choice.method === 'oidc'
  return {
    method: choice.method,
    clientId: signIn.clientId,
    tenantId: signIn.tenantId,
    cloud: cloud.name,
    authority: signIn.tenantId ? `${cloud.authorityHost}/${signIn.tenantId}` : cloud.authorityHost,
    audience: oidc ? (presented.audience ?? cloud.oidcAudience) : undefined,
    subject: oidc ? presented.subject : undefined
  }
}

function describeSignIn(facts: FailureFacts): string {
  return [
    facts.method,
    facts.clientId && `client id ${facts.clientId}`,
    facts.tenantId && `tenant ${facts.tenantId}`,
    `cloud ${facts.cloud}`,
    `authority ${facts.authority}`,
    facts.audience && `audience '${facts.audience}'`,
    facts.subject && `subject '${facts.subject}'`
  ]
    .filter(Boolean)
    .join(', ')
}

/** Entra's own words: the AADSTS line without trace ids and timestamps, else the first line. */
function entraWords(message: string): string {
  const aadsts = /AADSTS\d+:[^\r\n]*?(?=(?:\r|\n|Trace ID:|$))/.exec(message)?.[0]
  return (aadsts ?? message.split(/\r?\n/)[0]).trim()
}

/** A failed first token request as an ActionError: what was presented, the cause and the fix. */
export function signInError(error: unknown, choice: AuthChoice, facts: FailureFacts): ActionError {
  if (error instanceof ActionError) return error
  const message = error instanceof Error ? error.message : String(error)
  const signal = {
    ...signalFromMessage('sign-in', message),
    ...(choice.idTokenMissing ? { code: 'IdTokenMissing' } : {})
  }
  return new ActionError(`Sign-in failed (${describeSignIn(facts)}): ${entraWords(message)}`, {
    resource: facts.authority,
    cause: error,
    hint: hintOf(explain(signal, facts))
  })
}

/**
 * The Sign-in step: asks for the Resource Manager token that every later request uses (the
 * shared cache keeps it), so a refused sign-in fails here, not as the first ARM request.
 * Throws ActionError (cause and fix from the catalogue) or CancelledError.
 */
export async function signIn(
  credential: TokenCredential,
  choice: AuthChoice,
  settings: SignInSettings,
  presented: () => PresentedClaims,
  abortSignal: AbortSignal
): Promise<StepOutcome<void>> {
  try {
    await credential.getToken(`${settings.cloud.resourceManagerEndpoint}/.default`, {
      abortSignal
    })
  } catch (error) {
    if (abortSignal.aborted) throw new CancelledError('signing in')
    throw signInError(error, choice, signInFacts(choice, settings, presented()))
  }
  return {
    value: undefined,
    found: describeSignIn(signInFacts(choice, settings, presented())),
    done: 'signed in'
  }
}
