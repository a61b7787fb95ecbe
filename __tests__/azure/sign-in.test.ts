// Sign-in: which credential the inputs choose, one token per scope, and a refused sign-in explained.
import { describe, expect, it, jest } from '@jest/globals'
import type { SignInSettings } from '../../src/settings.js'

// The real credentials, recording what sign-in.ts passes them (a real exchange would need Entra ID).
const identity = await import('@azure/identity')
type AssertionArgs = ConstructorParameters<typeof identity.ClientAssertionCredential>
type SecretArgs = ConstructorParameters<typeof identity.ClientSecretCredential>
const constructed: { assertion: AssertionArgs[]; secret: SecretArgs[] } = {
  assertion: [],
  secret: []
}
jest.unstable_mockModule('@azure/identity', () => ({
  ...identity,
  ClientAssertionCredential: class extends identity.ClientAssertionCredential {
    constructor(...args: AssertionArgs) {
      super(...args)
      constructed.assertion.push(args)
    }
  },
  ClientSecretCredential: class extends identity.ClientSecretCredential {
    constructor(...args: SecretArgs) {
      super(...args)
      constructed.secret.push(args)
    }
  }
}))
const {
  ClientAssertionCredential,
  ClientSecretCredential,
  AzureCliCredential,
  ManagedIdentityCredential
} = identity
const {
  chooseAuthMethod,
  claimsOf,
  createCredential,
  sharedTokenCache,
  signIn: signInStep,
  signInError,
  signInFacts,
  watchIdTokens
} = await import('../../src/azure/sign-in.js')

const cloud = {
  name: 'AzureCloud' as const,
  resourceManagerEndpoint: 'https://management.azure.com',
  authorityHost: 'https://login.microsoftonline.com',
  customAuthorityHost: false,
  oidcAudience: 'api://AzureADTokenExchange'
}
const oidcEnv = {
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't'
}

function signIn(overrides: Partial<SignInSettings> = {}): SignInSettings {
  return { requested: 'auto', clientId: 'client', tenantId: 'tenant', cloud, ...overrides }
}

describe('chooseAuthMethod', () => {
  it('auto picks OIDC when client-id, tenant-id and the OIDC variables are present', () => {
    expect(chooseAuthMethod(signIn({ clientSecret: 's' }), oidcEnv).method).toBe('oidc')
  })
  it('auto falls back to client-secret, then the Azure CLI session', () => {
    expect(chooseAuthMethod(signIn({ clientSecret: 's' }), {}).method).toBe('client-secret')
    expect(chooseAuthMethod(signIn(), {}).method).toBe('azure-cli')
    expect(chooseAuthMethod(signIn({ clientId: undefined }), oidcEnv).method).toBe('azure-cli')
  })
  it('lets a client secret decide only when auth is auto and OIDC is incomplete', () => {
    expect(chooseAuthMethod(signIn({ clientSecret: 's', tenantId: undefined }), oidcEnv)).toEqual({
      method: 'client-secret',
      reason: 'client-secret is given'
    })
    for (const requested of ['oidc', 'azure-cli', 'managed-identity'] as const) {
      expect(chooseAuthMethod(signIn({ requested, clientSecret: 's' }), oidcEnv).method).toBe(
        requested
      )
    }
  })
  it('explains a missing id-token permission when oidc is asked for', () => {
    expect(() => chooseAuthMethod(signIn({ requested: 'oidc' }), {})).toThrow(/no OIDC token/)
  })
  it('honours an explicit method', () => {
    expect(chooseAuthMethod(signIn({ requested: 'managed-identity' }), oidcEnv)).toEqual({
      method: 'managed-identity',
      reason: "auth is 'managed-identity'"
    })
  })
})

describe('createCredential', () => {
  it('builds the credential of each method', () => {
    const fetch = async () => 'id-token'
    expect(createCredential('oidc', signIn(), fetch)).toBeInstanceOf(ClientAssertionCredential)
    expect(createCredential('client-secret', signIn({ clientSecret: 's' }), fetch)).toBeInstanceOf(
      ClientSecretCredential
    )
    expect(createCredential('azure-cli', signIn(), fetch)).toBeInstanceOf(AzureCliCredential)
    expect(createCredential('managed-identity', signIn(), fetch)).toBeInstanceOf(
      ManagedIdentityCredential
    )
  })

  it("asks GitHub for a fresh ID token with the cloud's audience on each exchange", async () => {
    const asked: string[] = []
    let issued = 0
    const fetch = async (audience: string) => {
      asked.push(audience)
      return `id-token-${++issued}`
    }
    const usGov = { ...cloud, oidcAudience: 'api://AzureADTokenExchangeUSGov' }
    createCredential('oidc', signIn({ cloud: usGov }), fetch)
    const [tenantId, clientId, getAssertion] = constructed.assertion.at(-1) ?? []
    expect([tenantId, clientId]).toEqual(['tenant', 'client'])
    expect(await getAssertion?.()).toBe('id-token-1')
    expect(await getAssertion?.()).toBe('id-token-2')
    expect(asked).toEqual(['api://AzureADTokenExchangeUSGov', 'api://AzureADTokenExchangeUSGov'])
  })

  it('turns instance discovery off only for a custom authority host', () => {
    const fetch = async () => 'id-token'
    const custom = { ...cloud, authorityHost: 'https://login.example', customAuthorityHost: true }
    createCredential('oidc', signIn({ cloud: custom }), fetch)
    expect(constructed.assertion.at(-1)?.[3]).toEqual({
      authorityHost: 'https://login.example',
      disableInstanceDiscovery: true
    })
    createCredential('client-secret', signIn({ cloud: custom, clientSecret: 's' }), fetch)
    expect(constructed.secret.at(-1)?.[3]).toEqual({
      authorityHost: 'https://login.example',
      disableInstanceDiscovery: true
    })
    createCredential('oidc', signIn(), fetch)
    expect(constructed.assertion.at(-1)?.[3]).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      disableInstanceDiscovery: false
    })
  })
})

describe('sharedTokenCache', () => {
  it('exchanges once for many requests, and again with a fresh ID token near expiry', async () => {
    let clock = 0
    const assertions: string[] = []
    const exchanging = {
      async getToken() {
        assertions.push(`id-token-${assertions.length + 1}`)
        return { token: `access-${assertions.length}`, expiresOnTimestamp: clock + 60 * 60_000 }
      }
    }
    const shared = sharedTokenCache(exchanging, () => clock)
    const scope = 'https://management.azure.com/.default'
    const [first, second] = await Promise.all([shared.getToken(scope), shared.getToken(scope)])
    expect(await shared.getToken([scope])).toBe(first)
    expect(second).toBe(first)
    expect(assertions).toEqual(['id-token-1'])
    clock += 56 * 60_000
    expect((await shared.getToken(scope))?.token).toBe('access-2')
    expect(assertions).toEqual(['id-token-1', 'id-token-2'])
  })
  it('does not keep a failed exchange', async () => {
    let calls = 0
    const flaky = {
      async getToken() {
        calls++
        if (calls === 1) throw new Error('AADSTS700024')
        return { token: 'ok', expiresOnTimestamp: Date.now() + 3_600_000 }
      }
    }
    const shared = sharedTokenCache(flaky)
    await expect(shared.getToken('s')).rejects.toThrow('AADSTS700024')
    expect((await shared.getToken('s'))?.token).toBe('ok')
  })
})

describe('sign-in', () => {
  const jwt = (payload: object) =>
    ['e30', Buffer.from(JSON.stringify(payload)).toString('base64url'), 'sig'].join('.')
  const oidc = { method: 'oidc' as const, reason: 'test' }

  it('reads the subject and audience from an ID token, and nothing from a non-JWT', () => {
    expect(claimsOf(jwt({ sub: 'repo:o/r:ref:refs/heads/main', aud: ['a', 'b'] }))).toEqual({
      subject: 'repo:o/r:ref:refs/heads/main',
      audience: 'a,b'
    })
    expect(claimsOf('not-a-token')).toEqual({})
  })

  it('remembers the claims of the last ID token handed out, and passes the token through', async () => {
    const watched = watchIdTokens(async (audience) =>
      jwt({ sub: 'repo:o/r:pull_request', aud: audience })
    )
    expect(watched.presented()).toEqual({})
    expect(claimsOf(await watched.fetch('api://x'))).toEqual({
      subject: 'repo:o/r:pull_request',
      audience: 'api://x'
    })
    expect(watched.presented()).toEqual({ subject: 'repo:o/r:pull_request', audience: 'api://x' })
  })

  it('hands one GitHub ID token to every assertion while it is valid, and a new one near its exp', async () => {
    let now = 1_000_000_000_000
    let fetched = 0
    const watched = watchIdTokens(
      async (audience) => {
        fetched++
        return jwt({ sub: 's', aud: audience, exp: Math.floor(now / 1000) + 300 })
      },
      () => now
    )
    const [first, second] = await Promise.all([watched.fetch('api://x'), watched.fetch('api://x')])
    expect(await watched.fetch('api://x')).toBe(first)
    expect(second).toBe(first)
    expect(fetched).toBe(1)
    now += 241_000 // within a minute of exp: a fresh one
    await watched.fetch('api://x')
    expect(fetched).toBe(2)
    await watched.fetch('api://other')
    expect(fetched).toBe(3)
  })

  it('does not reuse an ID token without exp, nor a failed fetch', async () => {
    let fetched = 0
    const watched = watchIdTokens(async () => {
      if (++fetched === 1) throw new Error('GitHub said no')
      return jwt({ sub: 's' })
    })
    await expect(watched.fetch('a')).rejects.toThrow('GitHub said no')
    await watched.fetch('a')
    await watched.fetch('a')
    expect(fetched).toBe(3)
  })

  it.each([
    [
      700212,
      'AADSTS700212: No matching federated identity record found for presented assertion audience',
      /do not accept audience 'api:\/\/AzureADTokenExchange'.*Set 'audience'/
    ],
    [
      700213,
      'AADSTS700213: No matching federated identity record found for presented assertion subject',
      /has subject 'repo:o\/r:ref:refs\/heads\/main'.*environment:<name>/
    ],
    [
      700211,
      'AADSTS700211: No matching federated identity record found for presented assertion issuer',
      /trusts the issuer/
    ],
    [
      700016,
      "AADSTS700016: Application with identifier 'client' was not found",
      /Set 'client-id'.*'tenant-id'/
    ],
    [
      7000215,
      'AADSTS7000215: Invalid client secret provided.',
      /Set 'client-secret' to the secret's value, not its ID/
    ],
    [
      90002,
      "AADSTS90002: Tenant 'tenant' not found.",
      /does not know tenant 'tenant'.*Set 'tenant-id'/
    ],
    [700024, 'AADSTS700024: Client assertion is not within its valid time range.', /had expired/]
  ])('explains AADSTS%d with its fix, naming what was presented', (_code, text, hint) => {
    const raw = new Error(
      `invalid_client: Error(s): ${_code} - Description: ${text}\r\nTrace ID: t\r\nCorrelation ID: c`
    )
    const facts = signInFacts(oidc, signIn(), { subject: 'repo:o/r:ref:refs/heads/main' })
    const error = signInError(raw, oidc, facts)
    expect(error.message).toBe(
      `Sign-in failed (oidc, client id client, tenant tenant, cloud AzureCloud, authority https://login.microsoftonline.com/tenant, audience 'api://AzureADTokenExchange', subject 'repo:o/r:ref:refs/heads/main'): ${text}`
    )
    expect(error.hint).toMatch(hint)
  })

  it('says id-token: write is missing when auto fell back to an Azure CLI that is not there', () => {
    const choice = chooseAuthMethod(signIn(), {})
    expect(choice).toMatchObject({ method: 'azure-cli', idTokenMissing: true })
    const error = signInError(
      new Error("Azure CLI could not be found. ... using 'az login'."),
      choice,
      signInFacts(choice, signIn(), {})
    )
    expect(error.hint).toMatch(/^client-id and tenant-id are set.*'permissions: id-token: write'/)
    expect(chooseAuthMethod(signIn({ clientId: undefined }), {}).idTokenMissing).toBe(false)
  })

  it('asks for the Resource Manager token in its own step, and reports what signed in', async () => {
    const scopes: unknown[] = []
    const credential = {
      getToken: async (scope: string | string[]) => {
        scopes.push(scope)
        return { token: 't', expiresOnTimestamp: 0 }
      }
    }
    const outcome = await signInStep(
      credential,
      { method: 'client-secret', reason: 'test' },
      signIn(),
      () => ({}),
      new AbortController().signal
    )
    expect(scopes).toEqual(['https://management.azure.com/.default'])
    expect(outcome.found).toBe(
      'client-secret, client id client, tenant tenant, cloud AzureCloud, authority https://login.microsoftonline.com/tenant'
    )
    const refusing = {
      getToken: () => Promise.reject(new Error('AADSTS7000215: Invalid client secret provided.'))
    }
    await expect(
      signInStep(
        refusing,
        { method: 'client-secret', reason: 'test' },
        signIn(),
        () => ({}),
        new AbortController().signal
      )
    ).rejects.toThrow(/^Sign-in failed \(client-secret, client id client/)
  })
})
