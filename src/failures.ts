// The catalogue of failures: every kind of failure the action can meet, how it is recognised, and
// what to tell the user (likely cause, and the fix naming the input, or the permission and scope).
// Each kind is data: what it matches, and its cause and fix as templates over the failure's facts.
// errors.ts, the steps and the connection test look failures up here; the README's
// troubleshooting table is generated from it (scripts/docs.ts).
import { clouds } from './clouds.js'
import { keyVaultGroupId, postgresGroupId } from './private-link.js'

/** Where a failure happened: each area has its own kinds. */
export type FailureArea = 'sign-in' | 'resource-manager' | 'connection-test'

/** What can be read off a failure to recognise it. */
export interface FailureSignal {
  area: FailureArea
  /** HTTP status of the failed request. */
  status?: number
  /** ARM error code, MSAL error code, Data Factory error code, or the action's own code. */
  code?: string
  /** The Entra ID error number (AADSTS700212 → 700212). */
  aadsts?: number
  /** The PostgreSQL SQLSTATE (28P01, 3D000, …). */
  sqlState?: string
  /** The RBAC action the failed request needed (from ARM's message, or the caller's knowledge). */
  permission?: string
  /** Azure accepted the request (202) and the long-running operation it started ended Failed. */
  operationFailed?: boolean
  message: string
}

/** What is known about the failed operation; the cause and fix quote these. */
export interface FailureFacts {
  /** The RBAC action that was missing or needed. */
  permission?: string
  /** The ARM scope of the request. */
  scope?: string
  /** The inputs that built the scope, with their values: "'resource-group' (rg-x), …". */
  scopeInputs?: string
  /** The resource group ARM did not find. */
  resourceGroup?: string
  /** The sign-in method, client id, tenant, cloud, authority, and for OIDC the audience and subject. */
  method?: string
  clientId?: string
  tenantId?: string
  cloud?: string
  authority?: string
  audience?: string
  subject?: string
  /** The data factory whose managed identity reads Key Vault. */
  factory?: string
  /** The Key Vault secret and vault a Data Factory error names. */
  secret?: string
  vault?: string
  /** The Azure Policy assignment and definition that denied a request: "'name' (id)". */
  policyAssignment?: string
  policyDefinition?: string
  /** What the Deny rule evaluated as true, in words ("it denies requests where …"). */
  policyReason?: string
  /** The scopes a management lock holds, and the lock level that refuses the operation. */
  lockedScope?: string
  lockKind?: string
  /** The Private Link groups a server offers ("'a', 'b'" or "none"), and its delegated subnet. */
  privateLinkGroups?: string
  delegatedSubnet?: string
  /** The server, by name, whose connection vanished; its creation time now and when the linked service was written. */
  server?: string
  serverCreatedAt?: string
  recordedServerCreatedAt?: string
  /** The linked service that recorded the server's creation time. */
  linkedService?: string
}

/** Microsoft's how-to for moving a VNet-integrated flexible server to Private Link. */
const vnetMigrationDoc =
  'https://learn.microsoft.com/azure/postgresql/network/how-to-migrate-vnet-private-endpoint-capable-server'

type Facts = Required<FailureFacts>
type FactName = keyof FailureFacts

/** Facts worked out from other facts, where it takes logic (a template names them like any fact). */
const derivedFacts = {
  /** Where to grant a role for the scope (see grantScopeOf). */
  grantScope: (facts: Facts) => grantScopeOf(facts.scope),
  /** The built-in role that grants the permission. */
  role: (facts: Facts) => roleFor(facts.permission)
}

/**
 * What recognises a kind: every field given must hold (codes case-insensitively, `statuses` a list
 * or an inclusive range, every `messagePattern` found in the message); `{}` holds for any failure.
 */
export interface FailureMatch {
  /** ARM, MSAL or Data Factory error codes, or the action's own. */
  codes?: readonly string[]
  statuses?: readonly number[] | { from: number; to: number }
  /** Entra ID error numbers (AADSTS700212 → 700212). */
  aadsts?: readonly number[]
  /** PostgreSQL SQLSTATEs. */
  sqlStates?: readonly string[]
  messagePattern?: RegExp | readonly RegExp[]
  /** The RBAC action the failed request needed. */
  permissionPattern?: RegExp
  /** Azure accepted the request (202) and its long-running operation ended Failed. */
  operationFailed?: true
}

export interface FailureKind {
  /** A stable name, for tests and the README's anchor. */
  id: string
  /** Where it happens; 'any' for the fallback. */
  area: FailureArea | 'any'
  /** What failed, in a few words. */
  title: string
  /** How it is recognised, in words (for the README). */
  recognisedBy: string
  /** What recognises it; a list means any one of them. */
  match: FailureMatch | readonly FailureMatch[]
  /** Facts read from the failure's own message: each pattern's first group (Data Factory names the secret and vault). */
  reads?: Partial<Record<FactName, RegExp>>
  /** Templates: `{fact}` is replaced by that fact of the failure (a FailureFacts key, grantScope or role). */
  cause: string
  fix: string
}

export interface Explanation {
  kind: string
  cause: string
  fix: string
}

const federatedCredentialFields =
  "Compare the app's federated credentials (Microsoft Entra ID > App registrations > the app > Certificates & secrets > Federated credentials) with what the job presented"

const keyVaultSecretFacts = {
  secret: /secretName: ([^,\s]+)/i,
  vault: /vaultBaseUrl: (\S+?)\.?(?:\s|$)/i
}
const keyVaultSecretRead = /secret from key vault/i

const vanishedConnectionFix =
  'Set on-drift: recreate: the action deletes the managed private endpoint and makes a new one, whose new Pending connection is approved as on a first run (approval: auto, or a DBA with approval: wait); or delete the endpoint in Data Factory Studio (Manage > Managed private endpoints) and run again.'

/** The kinds, most specific first: the first whose match holds explains the failure. */
export const failureCatalogue: readonly FailureKind[] = [
  // ---- Sign-in ----
  {
    id: 'id-token-missing',
    area: 'sign-in',
    title: 'No GitHub OIDC token (auth auto)',
    recognisedBy:
      'auth auto, client-id and tenant-id set, no ACTIONS_ID_TOKEN_REQUEST_URL, and the Azure CLI fallback failed',
    match: { codes: ['IdTokenMissing'] },
    cause:
      'client-id and tenant-id are set, so OIDC was meant, but GitHub gave this job no OIDC token: auth auto fell back to the Azure CLI, which is not signed in.',
    fix: "Add 'permissions: id-token: write' to the workflow or the job (pull requests from forks never get one); or sign in with azure/login before this step; or set auth: client-secret with client-secret."
  },
  {
    id: 'federated-issuer',
    area: 'sign-in',
    title: 'Federated credential: issuer not trusted (AADSTS700211)',
    recognisedBy: 'AADSTS700211',
    match: { aadsts: [700211] },
    cause:
      'No federated credential of app {clientId} trusts the issuer of the token the job presented.',
    fix: `${federatedCredentialFields}: a GitHub Actions credential has issuer https://token.actions.githubusercontent.com (GitHub Enterprise Server: your server's issuer).`
  },
  {
    id: 'federated-audience',
    area: 'sign-in',
    title: 'Federated credential: audience differs (AADSTS700212)',
    recognisedBy: 'AADSTS700212',
    match: { aadsts: [700212] },
    cause:
      "The federated credentials of app {clientId} do not accept audience '{audience}', which the job presented (cloud {cloud}).",
    fix: `${federatedCredentialFields}. Set 'audience' to the credential's audience (${clouds.AzureCloud.oidcAudience} is the public cloud's), or set 'environment' to the cloud the credential was made for, or add a federated credential with the presented audience.`
  },
  {
    id: 'federated-subject',
    area: 'sign-in',
    title: 'Federated credential: subject differs (AADSTS700213)',
    recognisedBy: 'AADSTS700213',
    match: { aadsts: [700213] },
    cause:
      "No federated credential of app {clientId} has subject '{subject}', which this job presented.",
    fix: `${federatedCredentialFields}, and add one with exactly that subject: a job with 'environment:' presents repo:<owner>/<repo>:environment:<name>, a branch job repo:<owner>/<repo>:ref:refs/heads/<branch>, a pull request repo:<owner>/<repo>:pull_request (or run the job where the credential expects it).`
  },
  {
    id: 'assertion-expired',
    area: 'sign-in',
    title: 'Client assertion outside its valid time (AADSTS700024)',
    recognisedBy: 'AADSTS700024',
    match: { aadsts: [700024] },
    cause: 'The GitHub ID token presented had expired, or was not valid yet.',
    fix: "Check the runner's clock; the action asks GitHub for a fresh ID token on every exchange, so re-run the job if this was a delay on the runner."
  },
  {
    id: 'assertion-invalid',
    area: 'sign-in',
    title: 'Client assertion refused (AADSTS50013, AADSTS50027)',
    recognisedBy: 'AADSTS50013, AADSTS50027',
    match: { aadsts: [50013, 50027] },
    cause: "Entra ID could not validate the ID token's signature or format.",
    fix: "Check the federated credential's issuer matches the token's issuer, and that 'authority-host' and 'environment' point at the tenant's cloud."
  },
  {
    id: 'application-not-found',
    area: 'sign-in',
    title: 'Application not found in the tenant (AADSTS700016)',
    recognisedBy: 'AADSTS700016, unauthorized_client',
    match: { aadsts: [700016] },
    cause: 'Tenant {tenantId} has no application with client id {clientId}.',
    fix: "Set 'client-id' to the app registration's Application (client) ID (not its object id), and 'tenant-id' to the directory it is registered in."
  },
  {
    id: 'client-secret-invalid',
    area: 'sign-in',
    title: 'Client secret refused (AADSTS7000215)',
    recognisedBy: 'AADSTS7000215',
    match: { aadsts: [7000215] },
    cause: 'The client secret was refused for app {clientId}.',
    fix: "Set 'client-secret' to the secret's value, not its ID (Certificates & secrets shows the value only once, when it is made)."
  },
  {
    id: 'client-secret-expired',
    area: 'sign-in',
    title: 'Client secret expired (AADSTS7000222)',
    recognisedBy: 'AADSTS7000222',
    match: { aadsts: [7000222] },
    cause: 'The client secret of app {clientId} has expired.',
    fix: "Make a new secret (Certificates & secrets) and store it where 'client-secret' reads it; better, switch to OIDC."
  },
  {
    id: 'tenant-unknown',
    area: 'sign-in',
    title: 'Tenant not found (AADSTS90002, endpoints_resolution_error)',
    recognisedBy: 'AADSTS90002, invalid_tenant, MSAL endpoints_resolution_error',
    match: [
      { aadsts: [90002] },
      { codes: ['invalid_tenant', 'endpoints_resolution_error'] },
      { messagePattern: /endpoints_resolution_error/ }
    ],
    cause: "The authority {authority} does not know tenant '{tenantId}'.",
    fix: "Set 'tenant-id' to the Directory (tenant) ID, a GUID, or a verified domain of the tenant; and check that 'environment' (or 'authority-host') is the tenant's cloud."
  },
  {
    id: 'azure-cli-unavailable',
    area: 'sign-in',
    title: 'Azure CLI not installed or not signed in',
    recognisedBy: "'Azure CLI could not be found', 'Please run 'az login''",
    match: { messagePattern: /Azure CLI could not be found|az login/i },
    cause:
      'auth azure-cli needs the Azure CLI, signed in, on the runner; it is missing or signed out.',
    fix: "Run azure/login before this step; or sign in with OIDC (client-id, tenant-id and 'permissions: id-token: write')."
  },
  {
    id: 'managed-identity-unavailable',
    area: 'sign-in',
    title: 'No managed identity on the runner',
    recognisedBy: 'ManagedIdentityCredential errors',
    match: { messagePattern: /ManagedIdentityCredential/i },
    cause:
      'auth managed-identity needs a runner on an Azure resource with a managed identity; none answered.',
    fix: "Use a self-hosted runner on Azure with the identity assigned (for a user-assigned one set 'client-id'), or another auth."
  },
  {
    id: 'sign-in-refused',
    area: 'sign-in',
    title: 'Sign-in refused',
    recognisedBy: 'any other AADSTS error or credential failure during sign-in',
    match: {},
    cause: 'Microsoft Entra ID refused the {method} sign-in of client {clientId}.',
    fix: "Read the AADSTS text above; check 'client-id', 'tenant-id', 'environment' and the credential (federated credential, or 'client-secret')."
  },

  // ---- Resource Manager ----
  {
    id: 'token-refused',
    area: 'resource-manager',
    title: 'Access token refused by Resource Manager (401)',
    recognisedBy: 'HTTP 401, InvalidAuthenticationToken*, ExpiredAuthenticationToken',
    match: { statuses: [401] },
    cause: 'Resource Manager refused the access token.',
    fix: "Check that 'environment' (or 'resource-manager-endpoint') is the subscription's cloud and 'tenant-id' the subscription's tenant."
  },
  {
    id: 'server-vnet-integrated',
    area: 'resource-manager',
    title: 'Server integrated into a virtual network (no Private Link)',
    recognisedBy: `preflight: the server's network names a delegated subnet, and it offers no '${postgresGroupId}' Private Link group`,
    match: { codes: ['ServerVnetIntegrated'] },
    cause: `Server '{scope}' is integrated into a virtual network (delegated subnet {delegatedSubnet}) and offers no Private Link group '${postgresGroupId}': Private Link cannot be used with it as it is.`,
    fix: `Move the server to Private Link with Azure's network migration from VNet integration to a private-endpoint-capable configuration (${vnetMigrationDoc}; POST …/flexibleServers/<server>/migrateNetwork: about 20 minutes, the server unreachable for about 10 of them, public access disabled afterwards), then run again. Servers made with "Public access (allowed IP addresses)" networking need no migration.`
  },
  {
    id: 'private-link-group-missing',
    area: 'resource-manager',
    title: `Server offers no '${postgresGroupId}' Private Link group`,
    recognisedBy: `preflight: the server's privateLinkResources list no '${postgresGroupId}' group`,
    match: { codes: ['PrivateLinkGroupMissing'] },
    cause: `Server '{scope}' offers no Private Link group '${postgresGroupId}' (its privateLinkResources list {privateLinkGroups}), so a managed private endpoint to it cannot be made; nothing was written.`,
    fix: `Check the server's networking (server > Networking): Private endpoints need "Public access (allowed IP addresses)" networking, which an older server may predate; a VNet-integrated one moves with Azure's network migration (${vnetMigrationDoc}). Then run again.`
  },
  // The endpoint step's own codes: the server lists no connection from an endpoint Data Factory
  // shows Approved. Their causes read as the end of "Managed private endpoint '…' exists but …".
  {
    id: 'server-recreated',
    area: 'resource-manager',
    title:
      'Server recreated under the same name (Data Factory still shows the connection Approved)',
    recognisedBy:
      'endpoint step: the server lists no connection from the endpoint, and its systemData.createdAt differs from the one the linked service recorded',
    match: { codes: ['ServerRecreated'] },
    cause:
      "server '{server}' was recreated under the same name (created {serverCreatedAt}; it was created {recordedServerCreatedAt} when linked service '{linkedService}' was written), so the server lists no connection from it",
    fix: `${vanishedConnectionFix} The new server also needs its roles and databases again: the connection test signs in afresh.`
  },
  {
    id: 'connection-deleted',
    area: 'resource-manager',
    title: 'Connection gone from the server (Data Factory still shows it Approved)',
    recognisedBy:
      'endpoint step: the server lists no connection from an endpoint Data Factory shows Approved',
    match: { codes: ['ConnectionDeleted'] },
    cause:
      "server '{server}' lists no connection from it: a DBA deleted the connection, or the server was restored or recreated",
    fix: vanishedConnectionFix
  },
  {
    id: 'policy-denied',
    area: 'resource-manager',
    title: 'Denied by Azure Policy (403 RequestDisallowedByPolicy)',
    recognisedBy: 'HTTP 403 RequestDisallowedByPolicy (its additionalInfo of type PolicyViolation)',
    match: { codes: ['RequestDisallowedByPolicy'] },
    cause:
      "Azure Policy assignment {policyAssignment} (definition {policyDefinition}) denies this request on '{scope}'; {policyReason}. This is not a missing role: no retry, wait or other person's approval gets past it.",
    fix: "Ask the owners of the assignment for a policy exemption covering '{grantScope}' (az policy exemption create --policy-assignment <assignment id> --scope <that scope> --exemption-category Waiver), or change what the rule evaluated; then run again."
  },
  {
    id: 'scope-locked',
    area: 'resource-manager',
    title: 'Scope locked (409 ScopeLocked)',
    recognisedBy: 'HTTP 409 ScopeLocked',
    match: { codes: ['ScopeLocked'] },
    cause:
      "A {lockKind} lock on {lockedScope} refuses this request to '{scope}' (ReadOnly refuses every write and delete, CanNotDelete every delete); it stays refused while the lock is there.",
    fix: 'Have an owner of {lockedScope} remove the lock for the change (Settings > Locks, or az lock delete --name <lock> --resource-group <group>) and put it back afterwards, or use resources outside the locked scope; then run again.'
  },
  {
    id: 'approve-forbidden',
    area: 'resource-manager',
    title: 'No right to approve the private endpoint connection (403)',
    recognisedBy:
      'HTTP 403 on privateEndpointConnections/write or privateEndpointConnectionsApproval/action',
    match: {
      statuses: [403],
      permissionPattern: /flexibleServers\/privateEndpointConnections(Approval)?\/(write|action)/i
    },
    cause:
      "The identity lacks '{permission}' on scope '{scope}', so it may not approve private endpoint connections on server '{grantScope}'.",
    fix: "Grant it 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write' and 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action' on '{grantScope}' (Contributor on the server, or a custom role with both actions); or have someone approve the connection (server > Networking > Private endpoint connections), or set approval: wait. Then run again."
  },
  {
    id: 'scope-unseen',
    area: 'resource-manager',
    title: 'Scope does not exist, or the identity cannot see it (403 on a read)',
    recognisedBy: 'HTTP 403 AuthorizationFailed on a read',
    match: { statuses: [403], permissionPattern: /\/read$/i },
    cause:
      "'{scope}' does not exist, or the identity cannot see it: Resource Manager answers 403 for both when no role of the identity covers the scope.",
    fix: "Check {scopeInputs} for a typo; if they are right, grant the identity '{permission}' on that scope (Reader, or the role the permissions table names)."
  },
  {
    id: 'permission-missing',
    area: 'resource-manager',
    title: 'Permission missing (403)',
    recognisedBy: 'HTTP 403 AuthorizationFailed on a write or action',
    match: { statuses: [403] },
    cause: "The identity lacks '{permission}' on scope '{scope}'.",
    fix: "Grant it {role} on '{grantScope}', or a custom role with that action (role assignments take a few minutes to apply)."
  },
  {
    id: 'resource-group-not-found',
    area: 'resource-manager',
    title: 'Resource group not found (404 ResourceGroupNotFound)',
    recognisedBy: 'HTTP 404 ResourceGroupNotFound',
    match: { codes: ['ResourceGroupNotFound'] },
    reads: { resourceGroup: /Resource group '([^']+)'/i },
    cause: "Resource group '{resourceGroup}' does not exist in the subscription.",
    fix: "Check {scopeInputs}: the group's name, or the subscription it is in."
  },
  {
    id: 'subscription-not-found',
    area: 'resource-manager',
    title: 'Subscription not found (404 SubscriptionNotFound)',
    recognisedBy: 'HTTP 404 SubscriptionNotFound',
    match: { codes: ['SubscriptionNotFound'] },
    cause: 'The subscription does not exist, or the identity has no role in it.',
    fix: "Check {scopeInputs}; and that the identity has a role in that subscription (and that 'tenant-id' is its tenant)."
  },
  {
    id: 'resource-not-found',
    area: 'resource-manager',
    title: 'Resource not found (404)',
    recognisedBy: 'HTTP 404',
    match: { statuses: [404] },
    cause: "'{scope}' does not exist, or the identity cannot see it.",
    fix: "Check {scopeInputs} for a typo; if they are right, grant the identity '{permission}' on that scope."
  },
  {
    id: 'throttled',
    area: 'resource-manager',
    title: 'Throttled (429)',
    recognisedBy: 'HTTP 429',
    match: { statuses: [429] },
    cause:
      'Resource Manager is throttling this identity; the SDK already retried with Retry-After.',
    fix: 'Run again later, or run fewer jobs at once with the same identity.'
  },
  {
    id: 'conflict',
    area: 'resource-manager',
    title: 'Conflict (409)',
    recognisedBy: 'HTTP 409',
    match: { statuses: [409] },
    cause:
      'The resource is busy or in a conflicting state (another operation may be running on it).',
    fix: 'Wait a few minutes and run again.'
  },
  {
    id: 'bad-request',
    area: 'resource-manager',
    title: 'Request refused as invalid (400)',
    recognisedBy: 'HTTP 400',
    match: { statuses: [400] },
    cause: 'Azure refused the request as invalid.',
    fix: 'Check the names and inputs the message mentions, then run again.'
  },
  {
    id: 'azure-failed',
    area: 'resource-manager',
    title: 'Azure failed on its side (5xx)',
    recognisedBy: 'HTTP 500–599',
    match: { statuses: { from: 500, to: 599 } },
    cause: 'Azure failed on its side; the SDK already retried.',
    fix: 'Run again later, and check Azure status if it persists.'
  },

  // ---- Key Vault, as the connection test's Lookup reports it ----
  {
    id: 'key-vault-linked-service-missing',
    area: 'connection-test',
    title: 'Key Vault linked service missing',
    recognisedBy: "Data Factory: 'Azure Key Vault linked service … does not exist'",
    match: { messagePattern: /Key Vault linked service .* does not exist/i },
    cause:
      'The Key Vault linked service the password refers to does not exist in the factory, or is not of type AzureKeyVault.',
    fix: "Set 'password-key-vault-linked-service' to an AzureKeyVault linked service of this factory."
  },
  {
    id: 'key-vault-secret-not-found',
    area: 'connection-test',
    title: 'Key Vault secret not found',
    recognisedBy:
      "Data Factory: 'Failed to get the secret from key vault … was not found', SecretNotFound",
    match: { messagePattern: [keyVaultSecretRead, /not found|SecretNotFound/i] },
    reads: keyVaultSecretFacts,
    cause: "Secret '{secret}' does not exist in the vault {vault} (or that version does not).",
    fix: "Check 'password-secret-name' (or 'service-principal-key-secret-name') and its version input, and that 'password-key-vault-linked-service' points at the vault that holds it."
  },
  {
    id: 'key-vault-private',
    area: 'connection-test',
    title: 'Key Vault denies public access (no managed private endpoint to it)',
    recognisedBy:
      "Data Factory: 'Failed to get the secret from key vault … Client address is not authorized', ForbiddenByFirewall",
    match: {
      messagePattern: [keyVaultSecretRead, /ForbiddenByFirewall|Client address is not authorized/i]
    },
    reads: keyVaultSecretFacts,
    cause:
      "The vault {vault} refused Data Factory's network address: it denies public access, and factory '{factory}' reaches it through no approved managed private endpoint of its managed virtual network. Its identity's role on the vault is not the problem.",
    fix: `Create a managed private endpoint from the factory's managed virtual network to the vault (groupId '${keyVaultGroupId}': az datafactory managed-private-endpoint create --factory-name {factory} --resource-group <group> --managed-virtual-network-name <managed-virtual-network> --name <name> --group-id ${keyVaultGroupId} --private-link-resource-id <the vault's resource id>) and have the vault's owner approve its connection (the vault > Networking > Private endpoint connections); or let the vault's firewall allow trusted Microsoft services. Then run again.`
  },
  {
    id: 'key-vault-forbidden',
    area: 'connection-test',
    title: "Factory's identity may not read the Key Vault secret",
    recognisedBy:
      "Data Factory: 'Failed to get the secret from key vault … Forbidden / does not have secrets get permission'",
    match: {
      messagePattern: [
        keyVaultSecretRead,
        /forbidden|does not have secrets get permission|not authorized/i
      ]
    },
    reads: keyVaultSecretFacts,
    cause:
      "The data factory's managed identity (factory '{factory}') may not read secret '{secret}' in the vault {vault}.",
    fix: "Grant the data factory's managed identity 'Key Vault Secrets User' on the vault (or that secret); for a vault with access policies, give it a 'get' secret permission. The action itself needs no Key Vault access."
  },

  // ---- PostgreSQL, as the connection test's Lookup reports it ----
  {
    id: 'postgres-password',
    area: 'connection-test',
    title: 'PostgreSQL refused the password (28P01)',
    recognisedBy: 'SQLSTATE 28P01, password authentication failed',
    match: [{ sqlStates: ['28P01'] }, { messagePattern: /password authentication failed/i }],
    cause: 'PostgreSQL refused the sign-in: the password is wrong for the role.',
    fix: "Check 'username' and 'password' (or the Key Vault secret the password names); a Flexible Server role name has no @server suffix."
  },
  {
    id: 'postgres-role',
    area: 'connection-test',
    title: 'PostgreSQL role may not sign in (28000)',
    recognisedBy: 'SQLSTATE 28000, no pg_hba.conf entry, role does not exist',
    match: [
      { sqlStates: ['28000'] },
      { messagePattern: /no pg_hba|role .* does not exist|authentication failed/i }
    ],
    cause: 'The PostgreSQL role does not exist, or may not sign in this way.',
    fix: "Check 'username'; for linked-service-auth system-assigned-identity create a role for the factory's identity (pgaadauth_create_principal)."
  },
  {
    id: 'postgres-database',
    area: 'connection-test',
    title: 'Database does not exist (3D000)',
    recognisedBy: 'SQLSTATE 3D000',
    match: [{ sqlStates: ['3D000'] }, { messagePattern: /database .* does not exist/i }],
    cause: 'The database does not exist on the server.',
    fix: "Check 'database' (names are case-sensitive when created quoted)."
  },
  {
    id: 'postgres-privilege',
    area: 'connection-test',
    title: 'Permission denied in PostgreSQL (42501)',
    recognisedBy: 'SQLSTATE 42501',
    match: [{ sqlStates: ['42501'] }, { messagePattern: /permission denied/i }],
    cause: "The role may not run 'test-query' (it lacks a privilege on what the query reads).",
    fix: "Grant the role what the query needs (GRANT SELECT …), or set 'test-query' to one it may run."
  },
  {
    id: 'postgres-tls',
    area: 'connection-test',
    title: 'TLS handshake failed',
    recognisedBy: 'certificate, SSL or TLS in the message',
    match: { messagePattern: /certificate|ssl|tls/i },
    cause: "The TLS handshake with the server failed for 'ssl-mode'.",
    fix: "verify-ca and verify-full need the server's certificate chain to be trusted; set 'ssl-mode' to require to confirm."
  },
  {
    id: 'postgres-unreachable',
    area: 'connection-test',
    title: 'Server unreachable from the runtime (08001)',
    recognisedBy:
      'SQLSTATE 08001/08006, Data Factory AzurePostgreSqlNpgsqlConnectionFailed, timed out, could not connect, refused',
    match: [
      { sqlStates: ['08001', '08006'] },
      {
        messagePattern:
          /AzurePostgreSqlNpgsqlConnectionFailed|timeout|timed out|could not connect|unreachable|refused/i
      }
    ],
    cause: 'The integration runtime could not reach the server.',
    fix: "Check that the managed private endpoint is Approved in Data Factory, that 'integration-runtime' runs in the managed virtual network, and that the server accepts the connection."
  },
  {
    id: 'operation-failed',
    area: 'resource-manager',
    title: 'Accepted, then the operation failed',
    recognisedBy: 'the long-running operation Azure started (202) ended Failed',
    match: { operationFailed: true },
    cause:
      'Azure accepted the request and started an operation on {scope}, which then failed with the code and message above (Azure answers even a refusal this way: approving a Rejected connection ends InternalServerError).',
    fix: "Look at the resource's state in the Azure portal (someone may have changed it meanwhile) and run again; if it fails the same way, open an Azure support request quoting the operation's message (it carries a Tracking ID)."
  }
]

/** When nothing in the catalogue matches. */
export const unknownFailure: FailureKind = {
  id: 'unknown',
  area: 'any',
  title: 'Any other failure',
  recognisedBy: 'nothing above matched',
  match: {},
  cause: 'A failure the action does not recognise.',
  fix: "Read the message above; re-run with the ACTIONS_STEP_DEBUG secret set for the requests' details, and report it if the message does not say what to do."
}

/**
 * Where to grant a role for `scope`: the factory or server it lies in (ARM names a connection, or
 * the connection test's temporary pipeline, which come and go), else `scope` itself.
 */
function grantScopeOf(scope: string): string {
  return (
    /^.*?\/providers\/Microsoft\.(?:DataFactory\/factories|DBforPostgreSQL\/flexibleServers)\/[^/]+/i.exec(
      scope
    )?.[0] ?? scope
  )
}

/** The built-in role that grants an action. */
function roleFor(action: string): string {
  const lower = action.toLowerCase()
  if (lower.startsWith('microsoft.datafactory/')) {
    return lower.endsWith('/read')
      ? 'Reader (or Data Factory Contributor)'
      : 'Data Factory Contributor'
  }
  return lower.endsWith('/read') ? 'Reader' : 'Contributor'
}

/** The recognisable parts of an error message: AADSTS number, SQLSTATE, and the ARM permission. */
export function signalFromMessage(area: FailureArea, message: string): FailureSignal {
  const entra = /AADSTS(\d+)/.exec(message)?.[1] ?? /Error\(s\): (\d{5,7})\b/.exec(message)?.[1]
  const state = /\b(28P01|28000|3D000|42501|08001|08006)\b/.exec(message)?.[1]
  const permission = /perform action '([^']+)'/i.exec(message)?.[1]
  return {
    area,
    message,
    aadsts: entra ? Number(entra) : undefined,
    sqlState: state,
    permission
  }
}

/** How a run's message names a fact it does not know (a token refused mid-run knows no subject). */
const unknownFacts: Facts = {
  permission: 'the permission the message names',
  scope: 'the scope the message names',
  scopeInputs: 'the inputs that name it',
  resourceGroup: 'the resource group the message names',
  method: 'chosen',
  clientId: 'client-id',
  tenantId: 'tenant-id',
  cloud: 'environment',
  authority: 'of the tenant',
  audience: 'the presented audience',
  subject: 'the presented subject',
  factory: 'the factory',
  secret: 'the secret the message names',
  vault: 'the vault the message names',
  policyAssignment: 'named in the message',
  policyDefinition: 'named in the message',
  policyReason: 'its rule is in its definition',
  lockedScope: 'the scope the message names',
  lockKind: 'management',
  privateLinkGroups: 'none',
  delegatedSubnet: 'named by the server',
  server: 'the server',
  serverCreatedAt: 'at another time',
  recordedServerCreatedAt: 'at another time',
  linkedService: 'the linked service'
}

/** Whether one matcher holds for the signal (see FailureMatch). */
function holds(match: FailureMatch, signal: FailureSignal): boolean {
  const { codes, statuses, aadsts, sqlStates, messagePattern, permissionPattern } = match
  const { status } = signal
  const patterns: readonly RegExp[] =
    messagePattern instanceof RegExp ? [messagePattern] : (messagePattern ?? [])
  return (
    (!codes || codes.some((code) => code.toLowerCase() === signal.code?.toLowerCase())) &&
    (!statuses ||
      (status !== undefined &&
        ('from' in statuses
          ? status >= statuses.from && status <= statuses.to
          : statuses.includes(status)))) &&
    (!aadsts || (signal.aadsts !== undefined && aadsts.includes(signal.aadsts))) &&
    (!sqlStates || (signal.sqlState !== undefined && sqlStates.includes(signal.sqlState))) &&
    patterns.every((pattern) => pattern.test(signal.message)) &&
    (!permissionPattern || permissionPattern.test(signal.permission ?? '')) &&
    (!match.operationFailed || signal.operationFailed === true)
  )
}

/** Whether a kind's match (any of its matchers) holds for the signal. */
export function matches(kind: FailureKind, signal: FailureSignal): boolean {
  const alternatives: readonly FailureMatch[] = Array.isArray(kind.match)
    ? kind.match
    : [kind.match as FailureMatch]
  return alternatives.some((match) => holds(match, signal))
}

/**
 * A template with every `{fact}` replaced by that fact (a FailureFacts key, or a derived one).
 * Throws on a name that is neither: a typo in the catalogue, caught by its tests.
 */
export function fillTemplate(template: string, facts: Facts): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (Object.hasOwn(derivedFacts, name))
      return derivedFacts[name as keyof typeof derivedFacts](facts)
    if (Object.hasOwn(unknownFacts, name)) return facts[name as FactName]
    throw new Error(`failure template names an unknown fact {${name}}: ${template}`)
  })
}

/** The facts `reads` finds in the message. */
function factsInMessage(kind: FailureKind, message: string): FailureFacts {
  return Object.fromEntries(
    Object.entries(kind.reads ?? {}).map(([name, pattern]) => [name, pattern.exec(message)?.[1]])
  )
}

/** Facts with every missing one filled by `fill` (the README shows `<name>`). */
function complete(facts: FailureFacts, fill: (name: FactName) => string): Facts {
  const names = Object.keys(unknownFacts) as FactName[]
  return Object.fromEntries(names.map((name) => [name, facts[name] ?? fill(name)])) as Facts
}

/** The first kind of failure whose match holds, or `unknownFailure`. */
export function recognise(signal: FailureSignal): FailureKind {
  return (
    failureCatalogue.find((kind) => kind.area === signal.area && matches(kind, signal)) ??
    unknownFailure
  )
}

/** The likely cause and the fix for a failure, from the catalogue. */
export function explain(signal: FailureSignal, facts: FailureFacts = {}): Explanation {
  const kind = recognise(signal)
  const known = { ...facts, ...definedOnly(factsInMessage(kind, signal.message)) }
  const all = complete({ permission: signal.permission, ...known }, (name) => unknownFacts[name])
  return { kind: kind.id, cause: fillTemplate(kind.cause, all), fix: fillTemplate(kind.fix, all) }
}

function definedOnly(facts: FailureFacts): FailureFacts {
  return Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined))
}

/** One hint: the cause, then the fix. */
export function hintOf(explanation: Explanation): string {
  return `${explanation.cause} ${explanation.fix}`
}

/** The catalogue as the README's troubleshooting table (cause and fix with `<placeholders>`). */
export function troubleshootingRows(): {
  title: string
  recognisedBy: string
  cause: string
  fix: string
}[] {
  const placeholders = complete({}, (name) => `<${name}>`)
  return [...failureCatalogue, unknownFailure].map((kind) => ({
    title: kind.title,
    recognisedBy: kind.recognisedBy,
    cause: fillTemplate(kind.cause, placeholders),
    fix: fillTemplate(kind.fix, placeholders)
  }))
}
