import { describe, expect, it } from '@jest/globals'
import {
  explain,
  failureCatalogue,
  fillTemplate,
  matches,
  recognise,
  signalFromMessage,
  troubleshootingRows,
  unknownFailure,
  type FailureSignal
} from '../src/failures.js'

const signIn = (message: string): FailureSignal => signalFromMessage('sign-in', message)
const arm = (status: number, code: string, permission?: string): FailureSignal => ({
  area: 'resource-manager',
  status,
  code,
  permission,
  message: 'm'
})
const lookup = (message: string): FailureSignal => signalFromMessage('connection-test', message)

/** One failure as Azure reports it, for every kind in the catalogue. */
const samples: Record<string, FailureSignal> = {
  'id-token-missing': { ...signIn('Azure CLI could not be found'), code: 'IdTokenMissing' },
  'operation-failed': {
    area: 'resource-manager',
    code: 'InternalServerError',
    operationFailed: true,
    message:
      "The long-running operation has failed. InternalServerError. An unexpected error occured while processing the request. Tracking ID: 't'"
  },
  'federated-issuer': signIn('AADSTS700211: No matching federated identity record (issuer)'),
  'federated-audience': signIn('invalid_client: Error(s): 700212 - Description: AADSTS700212: …'),
  'federated-subject': signIn('AADSTS700213: No matching federated identity record (subject)'),
  'assertion-expired': signIn('AADSTS700024: Client assertion is not within its valid time range'),
  'assertion-invalid': signIn('AADSTS50013: Assertion failed signature validation'),
  'application-not-found': signIn("AADSTS700016: Application with identifier 'x' was not found"),
  'client-secret-invalid': signIn('AADSTS7000215: Invalid client secret provided.'),
  'client-secret-expired': signIn('AADSTS7000222: The provided client secret keys are expired.'),
  'tenant-unknown': signIn('endpoints_resolution_error: See https://aka.ms/msal.js.errors'),
  'azure-cli-unavailable': signIn("ERROR: Please run 'az login' to setup account."),
  'managed-identity-unavailable': signIn('ManagedIdentityCredential: no managed identity endpoint'),
  'sign-in-refused': signIn('AADSTS50034: The user account does not exist.'),
  'token-refused': arm(401, 'InvalidAuthenticationTokenTenant'),
  // A Deny policy's 403 on the approval's own permission: a policy, not a missing role.
  'policy-denied': arm(
    403,
    'RequestDisallowedByPolicy',
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
  ),
  // Preflight's own codes for what the server's reads showed.
  'server-vnet-integrated': { area: 'resource-manager', code: 'ServerVnetIntegrated', message: '' },
  'private-link-group-missing': {
    area: 'resource-manager',
    code: 'PrivateLinkGroupMissing',
    message: ''
  },
  // The endpoint step's own codes for a connection the server no longer lists.
  'server-recreated': { area: 'resource-manager', code: 'ServerRecreated', message: '' },
  'connection-deleted': { area: 'resource-manager', code: 'ConnectionDeleted', message: '' },
  // A lock's 409, not a busy resource.
  'scope-locked': arm(409, 'ScopeLocked'),
  'approve-forbidden': arm(
    403,
    'AuthorizationFailed',
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write'
  ),
  'scope-unseen': arm(403, 'AuthorizationFailed', 'Microsoft.DataFactory/factories/read'),
  'permission-missing': arm(
    403,
    'AuthorizationFailed',
    'Microsoft.DataFactory/factories/pipelines/write'
  ),
  'resource-group-not-found': arm(404, 'ResourceGroupNotFound'),
  'subscription-not-found': arm(404, 'SubscriptionNotFound'),
  'resource-not-found': arm(404, 'ResourceNotFound'),
  throttled: arm(429, 'TooManyRequests'),
  conflict: arm(409, 'Conflict'),
  'bad-request': arm(400, 'BadRequest'),
  'azure-failed': arm(503, 'ServiceUnavailable'),
  'key-vault-linked-service-missing': lookup(
    "The Azure Key Vault linked service 'kv' referenced by the password does not exist or is not of type AzureKeyVault."
  ),
  'key-vault-secret-not-found': lookup(
    'Failed to get the secret from key vault, secretName: pg-pw, secretVersion: , vaultBaseUrl: https://kv.vault.azure.net/. The error message is: A secret with (name/id) pg-pw was not found in this key vault.'
  ),
  'key-vault-private': lookup(
    'Failed to get the secret from key vault, secretName: pg-pw, secretVersion: , vaultBaseUrl: https://kv.vault.azure.net/. The error message is: Client address is not authorized and caller is not a trusted service.\r\nClient address: 203.0.113.10 (ForbiddenByFirewall)'
  ),
  'key-vault-forbidden': lookup(
    "Failed to get the secret from key vault, secretName: pg-pw, secretVersion: , vaultBaseUrl: https://kv.vault.azure.net/. The error message is: Operation returned an invalid status code 'Forbidden'."
  ),
  'postgres-password': lookup(
    'password authentication failed for user "adfuser" (error code 28P01)'
  ),
  'postgres-role': lookup('no pg_hba.conf entry for host (error code 28000)'),
  'postgres-database': lookup('database "appdb2" does not exist (error code 3D000)'),
  'postgres-privilege': lookup('permission denied for table t (error code 42501)'),
  'postgres-tls': lookup('Hostname/IP does not match certificate altnames'),
  'postgres-unreachable': lookup('Exception while connecting: The operation has timed out')
}

describe('the failure catalogue', () => {
  it('has unique ids, and every kind is recognised from a failure as Azure reports it', () => {
    const ids = failureCatalogue.map((kind) => kind.id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(Object.keys(samples).sort()).toEqual([...ids].sort())
    for (const [id, signal] of Object.entries(samples)) {
      expect({ id, recognised: recognise(signal).id }).toEqual({ id, recognised: id })
    }
  })

  it('keeps areas apart: a refused connection in Resource Manager is not a PostgreSQL failure', () => {
    const refused = signalFromMessage('resource-manager', 'connect ECONNREFUSED 127.0.0.1:443')
    expect(recognise(refused)).toBe(unknownFailure)
  })

  it('reads the AADSTS number, the SQLSTATE and the missing permission from a message', () => {
    expect(signalFromMessage('sign-in', 'unauthorized_client: Error(s): 700016 - x')).toMatchObject(
      {
        aadsts: 700016
      }
    )
    expect(signalFromMessage('connection-test', 'x (error code 3D000)').sqlState).toBe('3D000')
    expect(
      signalFromMessage('resource-manager', "to perform action 'A/b/read' over scope '/s'")
        .permission
    ).toBe('A/b/read')
  })

  it('fills the cause and fix from the facts and the message, naming the input', () => {
    const forbidden = explain(samples['key-vault-forbidden'], { factory: 'adf-demo' })
    expect(forbidden).toEqual({
      kind: 'key-vault-forbidden',
      cause:
        "The data factory's managed identity (factory 'adf-demo') may not read secret 'pg-pw' in the vault https://kv.vault.azure.net/.",
      fix: expect.stringContaining("'Key Vault Secrets User' on the vault")
    })
    const audience = explain(samples['federated-audience'], {
      clientId: 'c',
      audience: 'api://AzureADTokenExchangeUSGov',
      cloud: 'AzureUSGovernment'
    })
    expect(audience.cause).toBe(
      "The federated credentials of app c do not accept audience 'api://AzureADTokenExchangeUSGov', which the job presented (cloud AzureUSGovernment)."
    )
    expect(explain(samples['postgres-database']).fix).toMatch(/'database'/)
  })

  it('grants on the factory or server, not on a temporary object or connection below it', () => {
    const factory =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DataFactory/factories/adf-demo'
    const server =
      '/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/pg'
    const probe = `${factory}/pipelines/adf-pg-private-link-probe-20261130T180944Z-1-1-ab-pipeline`
    const run = explain(samples['permission-missing'], { scope: probe })
    expect(run.cause).toContain(`on scope '${probe}'`)
    expect(run.fix).toContain(`on '${factory}',`)
    const refusal = `perform action 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action' over scope '${server}'`
    const approval = explain(
      { ...signalFromMessage('resource-manager', refusal), status: 403 },
      { scope: `${server}/privateEndpointConnections/c.1` }
    )
    expect(approval.fix).toContain(`on '${server}'`)
  })

  it('words a fact the run does not know, never showing a placeholder', () => {
    const midRun = explain(samples['federated-subject'])
    expect(midRun.cause).toBe(
      "No federated credential of app client-id has subject 'the presented subject', which this job presented."
    )
    expect(midRun.cause).not.toMatch(/<[a-zA-Z]+>/)
  })

  it('words the vanished connection with the server and its two creation times', () => {
    const recreated = explain(samples['server-recreated'], {
      server: 'pg-demo',
      serverCreatedAt: '2026-12-01T10:00:00.000Z',
      recordedServerCreatedAt: '2026-01-05T09:30:00.000Z',
      linkedService: 'ls-pg'
    })
    expect(recreated.cause).toBe(
      "server 'pg-demo' was recreated under the same name (created 2026-12-01T10:00:00.000Z; it was created 2026-01-05T09:30:00.000Z when linked service 'ls-pg' was written), so the server lists no connection from it"
    )
    expect(recreated.fix).toContain('on-drift: recreate')
    const deleted = explain(samples['connection-deleted'], { server: 'pg-demo' })
    expect(deleted.cause).toBe(
      "server 'pg-demo' lists no connection from it: a DBA deleted the connection, or the server was restored or recreated"
    )
    expect(deleted.fix).not.toMatch(/roles and databases/)
  })

  it('matches every field a matcher gives, and any one matcher of a list', () => {
    const approve = failureCatalogue.find((kind) => kind.id === 'approve-forbidden')!
    // Status and permission both hold; either alone does not.
    expect(matches(approve, samples['approve-forbidden'])).toBe(true)
    expect(matches(approve, { ...samples['approve-forbidden'], status: 409 })).toBe(false)
    expect(matches(approve, samples['permission-missing'])).toBe(false)
    const password = failureCatalogue.find((kind) => kind.id === 'postgres-password')!
    expect(matches(password, { area: 'connection-test', sqlState: '28P01', message: '' })).toBe(
      true
    )
    expect(matches(password, lookup('password authentication failed for user "u"'))).toBe(true)
    expect(matches(password, lookup('database "d" does not exist'))).toBe(false)
    // An inclusive range of statuses.
    const failed = failureCatalogue.find((kind) => kind.id === 'azure-failed')!
    expect([499, 500, 599, 600].map((status) => matches(failed, arm(status, 'x')))).toEqual([
      false,
      true,
      true,
      false
    ])
  })

  it('fills a template from the facts, derived ones included, and refuses a name that is no fact', () => {
    const facts = explain(samples['permission-missing'])
    expect(facts.fix).toMatch(/^Grant it Data Factory Contributor on /)
    const rows = troubleshootingRows()
    expect(rows.map((row) => `${row.cause} ${row.fix}`).join('\n')).not.toMatch(/\{\w+\}/)
    expect(() => fillTemplate('{notAFact}', {} as Parameters<typeof fillTemplate>[1])).toThrow(
      'unknown fact {notAFact}'
    )
  })

  it('renders every kind for the README, with <placeholders> for the facts of a run', () => {
    const rows = troubleshootingRows()
    expect(rows).toHaveLength(failureCatalogue.length + 1)
    expect(rows.find((row) => row.title.includes('AADSTS700213'))?.cause).toBe(
      "No federated credential of app <clientId> has subject '<subject>', which this job presented."
    )
    expect(rows.at(-1)?.title).toBe('Any other failure')
  })
})
