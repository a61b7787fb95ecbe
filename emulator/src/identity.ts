// Entra ID (tenant and ADFS authorities), the GitHub Actions OIDC issuer, and Resource Manager's token check.
import { randomBytes, randomUUID } from 'node:crypto'
import {
  compactVerify,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload
} from 'jose'
import { armError } from './arm-errors.js'
import { sameText } from './router.js'
import type {
  Caller,
  Delays,
  EmuRequest,
  EmuResponse,
  PrincipalSeed,
  Route,
  Scenario
} from './types.js'

const githubDefaultRepository = 'octo-org/octo-repo'
const githubDefaultRef = 'refs/heads/main'
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const reservedScopes = new Set(['openid', 'profile', 'offline_access'])

interface SigningKey {
  kid: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  jwk: JWK
}

async function createSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const kid = randomBytes(12).toString('base64url')
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'RS256' }
  return { kid, privateKey, publicKey, jwk }
}

function secondsNow(): number {
  return Math.floor(Date.now() / 1000)
}

function sign(key: SigningKey, claims: JWTPayload): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .sign(key.privateKey)
}

/** The signature alone; claims are judged by the caller, so each failure gets its own wording. */
async function verifiedClaims(token: string, key: SigningKey): Promise<JWTPayload | undefined> {
  try {
    if (decodeProtectedHeader(token).alg !== 'RS256') return undefined
    await compactVerify(token, key.publicKey)
    return decodeJwt(token)
  } catch {
    return undefined
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

/** Entra's timestamp format: `2026-11-28 10:00:00Z`. */
function entraTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z')
}

/** ARM's expiry wording uses .NET's invariant `M/d/yyyy h:mm:ss tt`. */
function armTimestamp(date: Date): string {
  const hours = date.getUTCHours()
  const pad = (value: number) => String(value).padStart(2, '0')
  const clock = `${hours % 12 || 12}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  return `${date.getUTCMonth() + 1}/${date.getUTCDate()}/${date.getUTCFullYear()} ${clock} ${hours < 12 ? 'AM' : 'PM'}`
}

export interface AccessTokenOptions {
  /** Defaults to the emulator's Resource Manager URL. */
  audience?: string
  lifetimeSeconds?: number
  /** Seconds since the epoch; defaults to now. */
  issuedAt?: number
}

export interface GithubTokenOptions {
  audience: string
  subject?: string
  lifetimeSeconds?: number
  issuedAt?: number
}

export type Authentication = { caller: Caller } | { error: EmuResponse }

export interface Identity {
  routes: Route[]
  /** Where a runner's ACTIONS_ID_TOKEN_REQUEST_URL points (already carrying a query string). */
  githubTokenRequestUrl: string
  githubTokenRequestToken: string
  githubIssuer: string
  githubSubject: string
  /** Checks a Resource Manager request's Authorization header as ARM does. */
  authenticate(authorization: string | undefined): Promise<Authentication>
  issueAccessToken(principal: PrincipalSeed, options?: AccessTokenOptions): Promise<string>
  issueGithubToken(options: GithubTokenOptions): Promise<string>
}

export interface IdentityOptions {
  baseUrl: string
  /** The live scenario (role and principal changes apply at once). */
  scenario: () => Scenario
  delays: Delays
}

type Form = Record<string, string>

function formOf(req: EmuRequest): Form {
  return req.body && typeof req.body === 'object' ? (req.body as Form) : {}
}

/** The tenant's verified domains (Entra resolves them to the tenant, as its id). */
export function tenantDomainsOf(scenario: Scenario): string[] {
  return scenario.tenantDomains ?? ['emulator.onmicrosoft.com']
}

function githubSubjectOf(scenario: Scenario): string {
  const repository = scenario.github?.repository ?? githubDefaultRepository
  const environment = scenario.github?.environment
  return environment
    ? `repo:${repository}:environment:${environment}`
    : `repo:${repository}:ref:${scenario.github?.ref ?? githubDefaultRef}`
}

export async function createIdentity(options: IdentityOptions): Promise<Identity> {
  const { baseUrl, delays } = options
  const entraKey = await createSigningKey()
  const githubKey = await createSigningKey()
  const githubIssuer = `${baseUrl}/github-oidc`
  const githubTokenRequestToken = randomBytes(32).toString('base64url')
  const tenantId = () => options.scenario().tenantId
  const tenantIssuer = () => `${baseUrl}/${tenantId()}/`
  /** The tenant id or one of its domains, as an authority path names it. */
  const isOurTenant = (tenant: string) =>
    tenant.toLowerCase() === tenantId().toLowerCase() ||
    tenantDomainsOf(options.scenario()).some((domain) => sameText(domain, tenant))
  const adfsIssuer = `${baseUrl}/adfs`
  const armAudiences = [`${baseUrl}/`, baseUrl]

  function entraError(
    req: EmuRequest,
    status: number,
    error: string,
    code: number,
    message: string
  ): EmuResponse {
    const timestamp = entraTimestamp(new Date())
    const traceId = randomUUID()
    const correlationId = String(req.headers['client-request-id'] ?? randomUUID())
    return {
      status,
      body: {
        error,
        error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${baseUrl}/error?code=${code}`
      }
    }
  }

  function unknownTenant(req: EmuRequest, tenant: string): EmuResponse {
    return entraError(
      req,
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`
    )
  }

  function issueAccessToken(principal: PrincipalSeed, tokenOptions: AccessTokenOptions = {}) {
    return issueAccessTokenFor(principal, tenantIssuer(), '1', tokenOptions)
  }

  function issueAccessTokenFor(
    principal: PrincipalSeed,
    issuer: string,
    appidacr: string,
    tokenOptions: AccessTokenOptions
  ): Promise<string> {
    const issuedAt = tokenOptions.issuedAt ?? secondsNow()
    return sign(entraKey, {
      aud: tokenOptions.audience ?? baseUrl,
      iss: issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: issuedAt + (tokenOptions.lifetimeSeconds ?? delays.accessTokenLifetimeSeconds),
      appid: principal.clientId,
      appidacr,
      idp: tenantIssuer(),
      idtyp: 'app',
      oid: principal.objectId,
      sub: principal.objectId,
      tid: tenantId(),
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0'
    })
  }

  function issueGithubToken(tokenOptions: GithubTokenOptions): Promise<string> {
    const scenario = options.scenario()
    const issuedAt = tokenOptions.issuedAt ?? secondsNow()
    const repository = scenario.github?.repository ?? githubDefaultRepository
    const ref = scenario.github?.ref ?? githubDefaultRef
    return sign(githubKey, {
      jti: randomUUID(),
      sub: tokenOptions.subject ?? githubSubjectOf(scenario),
      aud: tokenOptions.audience,
      ref,
      sha: '0123456789abcdef0123456789abcdef01234567',
      repository,
      repository_owner: repository.split('/')[0],
      run_id: '4242424242',
      run_number: '17',
      run_attempt: '1',
      actor: 'octocat',
      workflow: 'connect-adf-to-postgres',
      event_name: 'workflow_dispatch',
      ref_type: 'branch',
      ...(scenario.github?.environment ? { environment: scenario.github.environment } : {}),
      job_workflow_ref: `${repository}/.github/workflows/connect.yml@${ref}`,
      runner_environment: 'github-hosted',
      iss: githubIssuer,
      nbf: issuedAt,
      iat: issuedAt,
      exp: issuedAt + (tokenOptions.lifetimeSeconds ?? delays.oidcTokenLifetimeSeconds)
    })
  }

  /** Entra's checks of a GitHub token presented as a client assertion, in Entra's order. */
  async function checkAssertion(req: EmuRequest, principal: PrincipalSeed, assertion: string) {
    let unverified: JWTPayload
    try {
      unverified = decodeJwt(assertion)
    } catch {
      return entraError(req, 400, 'invalid_client', 50027, 'JWT token is invalid or malformed.')
    }
    const credentials = principal.federatedCredentials ?? []
    const byIssuer = credentials.filter((credential) => credential.issuer === unverified.iss)
    if (byIssuer.length === 0) {
      return entraError(
        req,
        400,
        'invalid_client',
        700211,
        `No matching federated identity record found for presented assertion issuer '${unverified.iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    const claims =
      unverified.iss === githubIssuer ? await verifiedClaims(assertion, githubKey) : undefined
    if (!claims) {
      return entraError(
        req,
        400,
        'invalid_client',
        50013,
        'Assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: unknown]'
      )
    }
    const now = secondsNow()
    if (typeof claims.exp !== 'number' || claims.exp <= now || (claims.nbf ?? 0) > now + 300) {
      const at = (seconds: number | undefined) => entraTimestamp(new Date((seconds ?? 0) * 1000))
      return entraError(
        req,
        400,
        'invalid_client',
        700024,
        `Client assertion is not within its valid time range. Current time: ${at(now)}, assertion valid from ${at(claims.nbf ?? claims.iat)}, expiry time of assertion ${at(claims.exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`
      )
    }
    const bySubject = byIssuer.filter((credential) => credential.subject === claims.sub)
    if (bySubject.length === 0) {
      return entraError(
        req,
        400,
        'invalid_client',
        700213,
        `No matching federated identity record found for presented assertion subject '${claims.sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!bySubject.some((credential) => audiences.includes(credential.audience))) {
      return entraError(
        req,
        400,
        'invalid_client',
        700212,
        `No matching federated identity record found for presented assertion audience '${audiences.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`
      )
    }
    return undefined
  }

  /** The client credentials grant, shared by the tenant and the ADFS authority. */
  async function token(req: EmuRequest, issuer: string): Promise<EmuResponse> {
    const form = formOf(req)
    if (form.grant_type !== 'client_credentials') {
      return entraError(
        req,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`
      )
    }
    const principal = options.scenario().principals.find((p) => p.clientId === form.client_id)
    if (!principal) {
      return entraError(
        req,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.client_id ?? ''}' was not found in the directory '${tenantId()}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`
      )
    }
    const scopes = (form.scope ?? '')
      .split(/\s+/)
      .filter((scope) => scope && !reservedScopes.has(scope))
    if (scopes.length !== 1 || !scopes[0].endsWith('/.default')) {
      return entraError(
        req,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scopes.join(' ')} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`
      )
    }
    const resource = scopes[0].slice(0, -'/.default'.length)
    if (trimSlash(resource) !== baseUrl) {
      return entraError(
        req,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${tenantId()}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`
      )
    }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== clientAssertionType) {
        return entraError(
          req,
          400,
          'invalid_request',
          50027,
          `Invalid client_assertion_type '${form.client_assertion_type ?? ''}'.`
        )
      }
      const refusal = await checkAssertion(req, principal, form.client_assertion)
      if (refusal) return refusal
    } else if (form.client_secret !== undefined) {
      if (!principal.clientSecret || form.client_secret !== principal.clientSecret) {
        return entraError(
          req,
          401,
          'invalid_client',
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${principal.clientId}'.`
        )
      }
    } else {
      return entraError(
        req,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
      )
    }
    const lifetime = delays.accessTokenLifetimeSeconds
    const appidacr = form.client_assertion === undefined ? '1' : '2'
    return {
      status: 200,
      body: {
        token_type: 'Bearer',
        expires_in: lifetime,
        ext_expires_in: lifetime,
        access_token: await issueAccessTokenFor(principal, issuer, appidacr, { audience: resource })
      }
    }
  }

  function tenantConfiguration(req: EmuRequest): EmuResponse {
    const tenant = req.params.tenant
    if (!isOurTenant(tenant)) return unknownTenant(req, tenant)
    // A domain resolves to the tenant's id-based endpoints, as Entra's discovery document does.
    const authority = `${baseUrl}/${tenantId()}`
    return {
      status: 200,
      body: {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic'
        ],
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${authority}/v2.0`,
        request_uri_parameter_supported: false,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid', 'ver'],
        tenant_region_scope: 'WW',
        cloud_instance_name: 'emulator',
        cloud_graph_host_name: 'graph.invalid',
        msgraph_host: 'graph.invalid'
      }
    }
  }

  function adfsConfiguration(): EmuResponse {
    return {
      status: 200,
      body: {
        issuer: adfsIssuer,
        authorization_endpoint: `${adfsIssuer}/oauth2/authorize`,
        token_endpoint: `${adfsIssuer}/oauth2/token`,
        jwks_uri: `${adfsIssuer}/discovery/keys`,
        end_session_endpoint: `${adfsIssuer}/oauth2/logout`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'client_secret_basic',
          'private_key_jwt'
        ],
        grant_types_supported: ['client_credentials'],
        scopes_supported: ['openid', 'profile', 'email', 'allatclaims']
      }
    }
  }

  function githubToken(req: EmuRequest): Promise<EmuResponse> | EmuResponse {
    if (req.headers.authorization !== `Bearer ${githubTokenRequestToken}`) {
      return {
        status: 401,
        body: { message: 'Unauthorized: the request token is missing or invalid' }
      }
    }
    // GitHub's default audience is the repository owner's URL.
    const repository = options.scenario().github?.repository ?? githubDefaultRepository
    const audience = req.query.get('audience') || `https://github.com/${repository.split('/')[0]}`
    return issueGithubToken({ audience }).then((value) => ({ status: 200, body: { value } }))
  }

  async function authenticate(authorization: string | undefined): Promise<Authentication> {
    const challenge = (description: string) => ({
      'WWW-Authenticate': `Bearer authorization_uri="${baseUrl}/${tenantId()}", error="invalid_token", error_description="${description}"`
    })
    const refuse = (code: string, message: string, description = message) => ({
      error: { ...armError(401, code, message), headers: challenge(description) }
    })
    if (!authorization) {
      return refuse(
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is missing.",
        "The authentication failed because of missing 'Authorization' header."
      )
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)
    if (!bearer) {
      return refuse(
        'AuthenticationFailed',
        "Authentication failed. The 'Authorization' header is provided in an invalid format."
      )
    }
    const claims = await verifiedClaims(bearer[1], entraKey)
    if (!claims) return refuse('InvalidAuthenticationToken', 'The access token is invalid.')
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!audiences.some((audience) => audience !== undefined && armAudiences.includes(audience))) {
      return refuse(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${audiences.join(',')}'. It should exactly match with one of the allowed audiences ${armAudiences.map((audience) => `'${audience}'`).join(',')}.`
      )
    }
    if (claims.iss !== tenantIssuer() && claims.iss !== adfsIssuer) {
      return refuse(
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer '${claims.iss}'. It must match the tenant '${tenantIssuer()}' associated with this subscription. Please use the authority (URL) '${baseUrl}/${tenantId()}' to get the token.`
      )
    }
    const now = secondsNow()
    if (typeof claims.exp !== 'number' || claims.exp <= now) {
      const expiry = armTimestamp(new Date((claims.exp ?? 0) * 1000))
      return refuse(
        'ExpiredAuthenticationToken',
        `The access token expiry UTC time '${expiry}' is earlier than current UTC time '${armTimestamp(new Date(now * 1000))}'.`,
        'The access token has expired.'
      )
    }
    const principal = options.scenario().principals.find((p) => p.objectId === claims.oid)
    if (!principal) return refuse('InvalidAuthenticationToken', 'The access token is invalid.')
    return { caller: { objectId: principal.objectId, clientId: principal.clientId } }
  }

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/:tenant/v2.0/.well-known/openid-configuration',
      handle: tenantConfiguration
    },
    {
      method: 'GET',
      pattern: '/:tenant/discovery/v2.0/keys',
      handle: (req) =>
        isOurTenant(req.params.tenant)
          ? { status: 200, body: { keys: [entraKey.jwk] } }
          : unknownTenant(req, req.params.tenant)
    },
    {
      method: 'POST',
      pattern: '/:tenant/oauth2/v2.0/token',
      handle: (req) =>
        isOurTenant(req.params.tenant)
          ? token(req, tenantIssuer())
          : unknownTenant(req, req.params.tenant)
    },
    { method: 'GET', pattern: '/adfs/.well-known/openid-configuration', handle: adfsConfiguration },
    {
      method: 'GET',
      pattern: '/adfs/discovery/keys',
      handle: () => ({ status: 200, body: { keys: [entraKey.jwk] } })
    },
    { method: 'POST', pattern: '/adfs/oauth2/token', handle: (req) => token(req, adfsIssuer) },
    { method: 'GET', pattern: '/github-oidc/token', handle: githubToken },
    {
      method: 'GET',
      pattern: '/github-oidc/.well-known/openid-configuration',
      handle: () => ({
        status: 200,
        body: {
          issuer: githubIssuer,
          jwks_uri: `${githubIssuer}/.well-known/jwks`,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          claims_supported: [
            'sub',
            'aud',
            'exp',
            'iat',
            'iss',
            'jti',
            'nbf',
            'ref',
            'repository',
            'run_id'
          ],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid']
        }
      })
    },
    {
      method: 'GET',
      pattern: '/github-oidc/.well-known/jwks',
      handle: () => ({ status: 200, body: { keys: [githubKey.jwk] } })
    }
  ]

  return {
    routes,
    githubTokenRequestUrl: `${githubIssuer}/token?api-version=2.0`,
    githubTokenRequestToken,
    githubIssuer,
    get githubSubject() {
      return githubSubjectOf(options.scenario())
    },
    authenticate,
    issueAccessToken,
    issueGithubToken
  }
}
