import { describe, expect, it, jest } from '@jest/globals'
import {
  ActionError,
  CancelledError,
  inputsOfScope,
  isPermanentRefusal,
  statusCodeOf,
  translateAzureError,
  unlessNotFound
} from '../src/errors.js'
import type { SignInSettings } from '../src/settings.js'

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
} = await import('../src/azure/sign-in.js')
const { withRawBody } = await import('../src/azure/clients.js')

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

/** A RestError whose raw body is kept, as the SDK's is (its models drop additionalInfo). */
function restErrorWithBody(statusCode: number, body: { error: { code: string; message: string } }) {
  return Object.assign(restError(statusCode, body.error.code, body.error.message), {
    response: { bodyAsText: JSON.stringify(body) }
  })
}

describe('policy denials and locks', () => {
  // The shape of Microsoft's published RequestDisallowedByPolicy answer
  // (learn.microsoft.com/azure/automation/enforce-job-execution-hybrid-worker).
  const assignmentId =
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/policyAssignments/a1'
  const definitionId = '/providers/Microsoft.Authorization/policyDefinitions/d1'
  const denial = restErrorWithBody(403, {
    error: {
      code: 'RequestDisallowedByPolicy',
      message: `Resource 'c' was disallowed by policy. Policy identifiers: '[{"policyAssignment":{"name":"Deny PE","id":"${assignmentId}"},"policyDefinition":{"name":"Deny PE def","id":"${definitionId}"}}]'.`,
      additionalInfo: [
        {
          type: 'PolicyViolation',
          info: {
            policyDefinitionDisplayName: 'Deny PE def',
            evaluationDetails: {
              evaluatedExpressions: [
                {
                  result: 'True',
                  expressionKind: 'Field',
                  expression:
                    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/privateEndpoint.id',
                  path: 'properties.privateEndpoint.id',
                  targetValue: 'false',
                  operator: 'Exists'
                },
                { result: 'False', path: 'name', targetValue: 'x', operator: 'Equals' }
              ]
            },
            policyDefinitionId: definitionId,
            policyDefinitionName: 'd1',
            policyDefinitionEffect: 'Deny',
            policyAssignmentId: assignmentId,
            policyAssignmentName: 'a1',
            policyAssignmentDisplayName: 'Deny PE',
            policyAssignmentScope: '/subscriptions/s/resourceGroups/g'
          }
        }
      ]
    } as { code: string; message: string }
  })
  const server =
    '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'

  it('names the assignment, the definition and the expressions that held, never a role', () => {
    const error = translateAzureError(
      denial,
      'approve the connection',
      `${server}/privateEndpointConnections/c`,
      'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
    )
    expect(error.hint).toContain(`Azure Policy assignment 'Deny PE' (${assignmentId})`)
    expect(error.hint).toContain(`(definition 'Deny PE def' (${definitionId}))`)
    expect(error.hint).toContain(
      "it denies requests where properties.privateEndpoint.id exists: 'false'."
    )
    expect(error.hint).not.toContain("name equals 'x'")
    expect(error.hint).toContain(`policy exemption covering '${server}'`)
    expect(error.hint).not.toMatch(/lacks|Grant it/)
    expect(isPermanentRefusal(denial)).toBe(true)
    expect(isPermanentRefusal(error)).toBe(true)
  })

  it("falls back to the message's policy identifiers, and names the requested resource by its full id", () => {
    const linkedService =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.DataFactory/factories/adf/linkedservices/ls'
    const bare = Object.assign(restError(403, 'RequestDisallowedByPolicy', denial.message), {
      request: { url: `https://management.azure.com${linkedService}?api-version=2018-06-01` }
    })
    const error = translateAzureError(bare, 'write the linked service', 'ls', 'x/write')
    expect(error.hint).toContain(`Azure Policy assignment 'Deny PE' (${assignmentId})`)
    expect(error.hint).toContain('its rule is in its definition')
    expect(error.hint).toContain(`denies this request on '${linkedService}'`)
  })

  it('names the locked scope and the lock level that refuses the operation', () => {
    const locked = (operation: string) =>
      restError(
        409,
        'ScopeLocked',
        `The scope '${server}' cannot perform ${operation} operation because following scope(s) are locked: '/subscriptions/s/resourceGroups/g'. Please remove the lock and try again.`
      )
    const write = translateAzureError(locked('write'), 'create the endpoint', server, 'x/write')
    expect(write.hint).toMatch(
      /^A ReadOnly lock on '\/subscriptions\/s\/resourceGroups\/g' refuses/
    )
    const remove = translateAzureError(locked('delete'), 'delete the endpoint', server, 'x/delete')
    expect(remove.hint).toMatch(
      /^A CanNotDelete or ReadOnly lock on '\/subscriptions\/s\/resourceGroups\/g'/
    )
    expect(isPermanentRefusal(locked('write'))).toBe(true)
    expect(isPermanentRefusal(restError(409, 'AnotherOperationInProgress', 'busy'))).toBe(false)
  })
})

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
    expect(error.hint).toContain(
      "Grant it 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' and 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action' on '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'"
    )
  })

  it('names the server, not the connection, as the scope to grant approval on', () => {
    const connection =
      '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg/privateEndpointConnections/c'
    const error = translateAzureError(
      restError(403, 'AuthorizationFailed', 'The client has no access.'),
      'approve the connection',
      connection,
      'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
    )
    expect(error.hint).toContain(
      "may not approve private endpoint connections on server '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'."
    )
  })

  it('says a read scope may not exist or be hidden, naming the inputs that built it and both fixes', () => {
    const scope =
      '/subscriptions/s1/resourceGroups/rg-typo/providers/Microsoft.DataFactory/factories/adf'
    const error = translateAzureError(
      restError(
        403,
        'AuthorizationFailed',
        `does not have authorization to perform action 'Microsoft.DataFactory/factories/read' over scope '${scope}' or the scope is invalid.`
      ),
      'read the data factory',
      scope,
      'Microsoft.DataFactory/factories/read'
    )
    expect(error.message).toMatch(/^Could not read the data factory '\/subscriptions\/s1\//)
    expect(error.hint).toBe(
      `'${scope}' does not exist, or the identity cannot see it: Resource Manager answers 403 for both when no role of the identity covers the scope. Check 'subscription-id' (s1), 'resource-group' (rg-typo) and 'factory-name' (adf) for a typo; if they are right, grant the identity 'Microsoft.DataFactory/factories/read' on that scope (Reader, or the role the permissions table names).`
    )
  })

  it('names the resource group ARM did not find, and the input for it', () => {
    const server =
      '/subscriptions/s1/resourceGroups/rg-typo/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'
    const error = translateAzureError(
      restError(404, 'ResourceGroupNotFound', "Resource group 'rg-typo' could not be found."),
      'read the PostgreSQL server',
      server,
      'Microsoft.DBforPostgreSQL/flexibleServers/read'
    )
    expect(error.hint).toMatch(/^Resource group 'rg-typo' does not exist in the subscription\./)
    expect(error.hint).toContain("'server-resource-group' (rg-typo)")
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
      "The identity lacks 'Microsoft.DataFactory/factories/linkedservices/write' on scope 'ls'. Grant it Data Factory Contributor on 'ls', or a custom role with that action (role assignments take a few minutes to apply)."
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
    [401, /refused the access token/],
    [404, /does not exist, or the identity cannot see it/],
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

describe('inputsOfScope', () => {
  it('names the inputs that built a factory scope, and a server scope', () => {
    expect(
      inputsOfScope(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DataFactory/factories/f/managedVirtualNetworks/default/managedPrivateEndpoints/pe'
      )
    ).toBe(
      "'subscription-id' (s), 'resource-group' (g), 'factory-name' (f), 'managed-virtual-network' (default) and 'endpoint-name' (pe)"
    )
    expect(
      inputsOfScope(
        '/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'
      )
    ).toBe(
      "'subscription-id' (s), 'server-resource-group' (g) and 'server-name' (pg) (or 'server-id', when the server is given by id)"
    )
    expect(inputsOfScope('ls')).toBe("the inputs that name 'ls'")
  })
})

describe('unlessNotFound', () => {
  it('is undefined for a missing resource, and throws for a missing resource group or subscription', async () => {
    await expect(
      unlessNotFound(() => Promise.reject(restError(404, 'ResourceNotFound', 'gone')))
    ).resolves.toBeUndefined()
    for (const code of ['ResourceGroupNotFound', 'SubscriptionNotFound']) {
      const error = restError(404, code, 'missing')
      await expect(unlessNotFound(() => Promise.reject(error))).rejects.toBe(error)
    }
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
