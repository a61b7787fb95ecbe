import { describe, expect, it, jest } from '@jest/globals'
import { ActionError, CancelledError, statusCodeOf, translateAzureError } from '../src/errors.js'
import type { SignInSettings } from '../src/settings.js'

// The real credentials, recording what azure.ts passes them (a real exchange would need Entra ID).
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
const { chooseAuthMethod, createCredential, sharedTokenCache, withRawBody } =
  await import('../src/azure.js')

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

function restError(statusCode: number, code: string, message: string): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, code })
}

describe('translateAzureError', () => {
  const denied = restError(
    403,
    'AuthorizationFailed',
    "The client 'abc' with object id 'def' does not have authorization to perform action 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' over scope '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg' or the scope is invalid."
  )

  it('names the missing permission, the scope and a role for a 403', () => {
    const error = translateAzureError(denied, 'approve the connection', 'pg', 'unused/action')
    expect(error.message).toMatch(
      /^Could not approve the connection 'pg' \(HTTP 403, AuthorizationFailed: /
    )
    expect(error.hint).toContain(
      "lacks 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'"
    )
    expect(error.hint).toContain(
      "on scope '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'"
    )
    expect(error.hint).toMatch(/Grant it Contributor/)
  })

  it('suggests Data Factory Contributor for factory writes', () => {
    const error = translateAzureError(
      restError(
        403,
        'AuthorizationFailed',
        "does not have authorization to perform action 'Microsoft.DataFactory/factories/linkedservices/write' over scope '/x'"
      ),
      'write',
      'ls',
      'unused/action'
    )
    expect(error.hint).toMatch(/Data Factory Contributor/)
  })

  it("names the call site's permission when ARM's message does not", () => {
    const error = translateAzureError(
      restError(403, 'Forbidden', 'The client has no access.'),
      'write the linked service',
      'ls',
      'Microsoft.DataFactory/factories/linkedservices/write'
    )
    expect(error.hint).toBe(
      "The signed-in identity lacks 'Microsoft.DataFactory/factories/linkedservices/write' on scope 'ls'. Grant it Data Factory Contributor on that scope (role assignments can take a few minutes to apply)."
    )
  })

  it('names the resource in the message', () => {
    const error = translateAzureError(
      restError(404, 'NotFound', 'gone'),
      'read the integration runtime',
      'ir-managed',
      'Microsoft.DataFactory/factories/integrationruntimes/read'
    )
    expect(error.message).toBe(
      "Could not read the integration runtime 'ir-managed' (HTTP 404, NotFound: gone)"
    )
  })

  it.each([
    [401, /token was refused/],
    [404, /Check the name, resource group and subscription/],
    [429, /throttling/],
    [400, /refused the request as invalid/],
    [409, /busy or in a conflicting state/],
    [503, /failed on its side/]
  ])('explains HTTP %d', (status, hint) => {
    expect(translateAzureError(restError(status, 'X', 'm'), 'read', 'r', 'p').hint).toMatch(hint)
  })

  it('keeps the status reachable through the cause, and turns aborts into cancellation', () => {
    const translated = translateAzureError(restError(404, 'NotFound', 'gone'), 'read', 'r', 'p')
    expect(statusCodeOf(translated)).toBe(404)
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(translateAzureError(abort, 'read the factory', 'f', 'p')).toBeInstanceOf(CancelledError)
    const mine = new ActionError('mine')
    expect(translateAzureError(mine, 'x', 'y', 'p')).toBe(mine)
  })
})

describe('withRawBody', () => {
  it('returns the JSON Azure sent, not the SDK model that dropped the v2 fields', async () => {
    const sent = {
      properties: { type: 'AzurePostgreSql', typeProperties: { server: 'pg', sslMode: 3 } }
    }
    const { value, body } = await withRawBody(async ({ onResponse }) => {
      onResponse({
        status: 200,
        parsedBody: { properties: { type: 'AzurePostgreSql' } },
        bodyAsText: JSON.stringify(sent)
      })
      return 'model'
    })
    expect(value).toBe('model')
    expect(body).toEqual(sent)
  })
})
