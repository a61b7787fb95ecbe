import { describe, expect, it } from '@jest/globals'
import {
  ClientAssertionCredential,
  ClientSecretCredential,
  AzureCliCredential,
  ManagedIdentityCredential
} from '@azure/identity'
import { chooseAuthMethod, createCredential, withRawBody } from '../src/azure.js'
import { ActionError, CancelledError, statusCodeOf, translateAzureError } from '../src/errors.js'
import type { SignInSettings } from '../src/settings.js'

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
    const error = translateAzureError(denied, 'approve the connection', 'pg')
    expect(error.message).toMatch(
      /^Could not approve the connection \(HTTP 403, AuthorizationFailed: /
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
      'ls'
    )
    expect(error.hint).toMatch(/Data Factory Contributor/)
  })

  it.each([
    [401, /token was refused/],
    [404, /Check the name, resource group and subscription/],
    [429, /throttling/]
  ])('explains HTTP %d', (status, hint) => {
    expect(translateAzureError(restError(status, 'X', 'm'), 'read', 'r').hint).toMatch(hint)
  })

  it('keeps the status reachable through the cause, and turns aborts into cancellation', () => {
    const translated = translateAzureError(restError(404, 'NotFound', 'gone'), 'read', 'r')
    expect(statusCodeOf(translated)).toBe(404)
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' })
    expect(translateAzureError(abort, 'read the factory', 'f')).toBeInstanceOf(CancelledError)
    const mine = new ActionError('mine')
    expect(translateAzureError(mine, 'x', 'y')).toBe(mine)
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
