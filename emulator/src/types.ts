// Contracts shared by the emulator's parts: the scenario that seeds it, the routes that
// resource providers register, and the pieces (CA, PostgreSQL, Lookup) they plug together.

/** How long Azure takes for each change; tests use milliseconds, the demo seconds. */
export interface Delays {
  /** A new managed private endpoint stays `Provisioning` this long, then `Succeeded`. */
  endpointProvisioningMs: number
  /** After `Succeeded`, the Pending connection appears on the server after this long. */
  connectionAppearsMs: number
  /** The approve/reject PUT on the server is an LRO that runs this long. */
  connectionUpdateMs: number
  /** An approval on the server reaches the factory's view of the endpoint after this long. */
  approvalDiscoveryMs: number
  /** DELETE of a managed private endpoint: it stays listed (`Deleting`) this long. */
  endpointDeletionMs: number
  /** A pipeline run stays `Queued` this long before the activity starts. */
  pipelineQueuedMs: number
  /** A Lookup that cannot reach the server (network blocked) fails after this long. */
  blockedNetworkTimeoutMs: number
  /** Lifetime of an emulated GitHub OIDC token, in seconds. */
  oidcTokenLifetimeSeconds: number
  /** Lifetime of an access token issued by the emulated Entra ID, in seconds. */
  accessTokenLifetimeSeconds: number
  /** An approval sent this soon after a connection appears answers 409 (Azure can); omitted = 0. */
  connectionNotReadyMs?: number
}

/** A role assignment: the principal may perform `actions` (ARM wildcards allowed) at `scope` and below. */
export interface RoleAssignment {
  scope: string
  /** A built-in role name ('Owner' | 'Contributor' | 'Reader' | 'Data Factory Contributor') or omitted when `actions` is given. */
  role?: string
  /** ARM actions such as 'Microsoft.DataFactory/factories/*' or '*\/read'. */
  actions?: string[]
  notActions?: string[]
}

/** Stands for the emulator's URL (known only once it listens) in a scenario, e.g. `{emulator}/github-oidc`. */
export const emulatorUrlPlaceholder = '{emulator}'

/** A federated credential: which GitHub OIDC tokens this app accepts as a client assertion. */
export interface FederatedCredential {
  /** The GitHub issuer is `{emulator}/github-oidc` (see emulatorUrlPlaceholder). */
  issuer: string
  subject: string
  audience: string
}

export interface PrincipalSeed {
  displayName: string
  clientId: string
  objectId: string
  clientSecret?: string
  federatedCredentials?: FederatedCredential[]
  roles: RoleAssignment[]
}

export interface IntegrationRuntimeSeed {
  name: string
  /** The managed virtual network this runtime runs in; omitted = a public Azure IR. */
  managedVirtualNetwork?: string
}

export interface FactorySeed {
  subscriptionId: string
  resourceGroup: string
  name: string
  location: string
  /** The managed virtual network's name (normally 'default'); omitted = no managed VNet. */
  managedVirtualNetwork?: string
  integrationRuntimes: IntegrationRuntimeSeed[]
  /** Linked services that already exist (for example an AzureKeyVault one), by name → full resource body. */
  linkedServices?: Record<string, unknown>
  datasets?: Record<string, unknown>
  pipelines?: Record<string, unknown>
  /** Managed private endpoints that already exist, as the factory would list them. */
  managedPrivateEndpoints?: {
    name: string
    privateLinkResourceId: string
    groupId: string
    connectionState?: string
  }[]
  /** The PostgreSQL role that the factory's system-assigned identity maps to (passwordless sign-in). */
  identityPostgresRole?: string
  /**
   * How Data Factory names the private endpoint it makes for a managed private endpoint, with
   * `{factory}` and `{endpoint}` placeholders. Omitted = '{factory}.{endpoint}' (what community
   * scripts rely on; no Microsoft document states it).
   */
  privateEndpointNameTemplate?: string
  /**
   * Answer managed private endpoints without `properties.resourceId`. Every recorded answer
   * carries it (cliext-datafactory-2022_mpe-*.json); this tests the action's fallback only.
   */
  omitPrivateEndpointResourceId?: boolean
  /**
   * Refuse (409) a new managed private endpoint while another one of the same managed virtual
   * network is still provisioning, as people report Azure doing (microsoft/terraform-provider-fabric#807).
   */
  refuseConcurrentEndpointCreation?: boolean
  /** The factory's Git integration, as GET factory returns it in `properties.repoConfiguration`. */
  repoConfiguration?: {
    type: 'FactoryGitHubConfiguration' | 'FactoryVSTSConfiguration'
    accountName: string
    repositoryName: string
    collaborationBranch: string
    rootFolder: string
    /** FactoryVSTSConfiguration only. */
    projectName?: string
    /** GitHub Enterprise host, e.g. https://github.mydomain.com (FactoryGitHubConfiguration). */
    hostName?: string
    lastCommitId?: string
    disablePublish?: boolean
  }
}

/** A connection on the server that someone else's endpoint made (so matching is tested). */
export interface ForeignConnectionSeed {
  /** Full id of the private endpoint, e.g. /subscriptions/<msft>/resourceGroups/x/providers/Microsoft.Network/privateEndpoints/otherfactory.pe */
  privateEndpointId: string
  status: 'Pending' | 'Approved' | 'Rejected' | 'Disconnected'
  description?: string
}

export interface ServerSeed {
  subscriptionId: string
  resourceGroup: string
  name: string
  location: string
  /** Defaults to `<name>.postgres.database.azure.com`. */
  fullyQualifiedDomainName?: string
  /** Defaults to 'Ready'. */
  state?: string
  /** Set = VNet-integrated (private access) server: Private Link is impossible. */
  delegatedSubnetResourceId?: string
  /** Defaults to 'Enabled' (always 'Disabled' for a VNet-integrated server). */
  publicNetworkAccess?: 'Enabled' | 'Disabled'
  /** Databases and roles created in the real PostgreSQL that stands for this server. */
  databases: string[]
  roles: { name: string; password: string }[]
  connections?: ForeignConnectionSeed[]
  /** `systemData.createdAt` (ISO 8601); defaults to a fixed moment in the past. */
  createdAt?: string
  /**
   * The Private Link groups the server offers (GET …/privateLinkResources). Defaults to
   * ['postgresqlServer'], and none for a VNet-integrated server; [] stands for a server that
   * offers none (an older one).
   */
  privateLinkGroups?: string[]
}

/** A vault's identity and network rule, as far as Data Factory's reads of its secrets depend on it. */
export interface KeyVaultSeed {
  /** The vault's base URL as an AzureKeyVault linked service's `baseUrl` names it. */
  vaultBaseUrl: string
  /** Its ARM id (Microsoft.KeyVault/vaults), the target of a managed private endpoint to it. */
  id: string
  /** 'Disabled': only private endpoints reach it (a managed one, groupId 'vault', for a factory). */
  publicNetworkAccess: 'Enabled' | 'Disabled'
}

export interface KeyVaultSecretSeed {
  /** The vault's base URL as an AzureKeyVault linked service's `baseUrl` names it. */
  vaultBaseUrl: string
  name: string
  value: string
  /** Defaults to a generated version id; the newest version is served when a reference names none. */
  version?: string
  /** Factories whose managed identity may get this secret (Key Vault Secrets User); omitted = all. */
  readers?: string[]
}

/** The workflow run whose GitHub OIDC tokens the emulator issues (subject `repo:<repository>:ref:<ref>`). */
export interface GitHubRunSeed {
  /** Defaults to 'octo-org/octo-repo'. */
  repository?: string
  /** Defaults to 'refs/heads/main'. */
  ref?: string
  /** Set = the job runs in this environment: subject `repo:<repository>:environment:<environment>`. */
  environment?: string
}

export interface Scenario {
  tenantId: string
  /** Verified domains of the tenant, usable instead of its id; defaults to ['emulator.onmicrosoft.com']. */
  tenantDomains?: string[]
  github?: GitHubRunSeed
  subscriptions: {
    id: string
    displayName: string
    resourceGroups: { name: string; location: string }[]
  }[]
  principals: PrincipalSeed[]
  factories: FactorySeed[]
  servers: ServerSeed[]
  keyVaultSecrets?: KeyVaultSecretSeed[]
  /** Key Vaults whose network settings matter (a vault not listed allows public access). */
  keyVaults?: KeyVaultSeed[]
  /** Azure Policy assignments that deny writes (a landing zone's guardrails). */
  policies?: DenyPolicySeed[]
  /** Management locks (CanNotDelete, ReadOnly) on resource groups or resources. */
  locks?: LockSeed[]
  delays?: Partial<Delays>
}

// ---- HTTP routing between the platform (server, identity, RBAC, admin) and the resource providers ----

export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'PATCH'

export interface Caller {
  objectId: string
  clientId: string
}

export interface EmuRequest {
  method: HttpMethod
  /** Path without the query string, as sent. */
  path: string
  /** Named segments of the route pattern, as sent (case kept). */
  params: Record<string, string>
  query: URLSearchParams
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON body; a form post (the token endpoints) as a Record<string, string>; or undefined. */
  body: unknown
  /** Set on every Resource Manager route: the token's principal. */
  caller?: Caller
}

export interface EmuResponse {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

export interface Route {
  method: HttpMethod
  /** Path pattern; `:name` matches one segment; matched case-insensitively as ARM does. */
  pattern: string
  /** Accepted api-versions; a request with another answers 400 like ARM. Omitted = no api-version check. */
  apiVersions?: string[]
  /**
   * The RBAC action the caller must hold at the request's scope (the path up to the resource), e.g.
   * 'Microsoft.DataFactory/factories/managedVirtualNetworks/managedPrivateEndpoints/write'.
   * Omitted = the route needs no Resource Manager token (identity endpoints, admin API).
   */
  permission?: string
  /**
   * A second action ARM checks for this request, and the scope it checks it on (approving a
   * Private Link connection also needs the provider's privateEndpointConnectionsApproval/action).
   */
  alsoRequires?(req: EmuRequest): { permission: string; scope: string } | undefined
  /** Needs a valid Resource Manager token but no RBAC action (GET /subscriptions lists what the caller sees). */
  authenticated?: boolean
  handle(req: EmuRequest): EmuResponse | Promise<EmuResponse>
}

// ---- Pieces the providers use ----

export interface IssuedCertificate {
  certPem: string
  keyPem: string
}

export interface CertificateAuthority {
  /** PEM of the CA certificate; clients trust it through NODE_EXTRA_CA_CERTS. */
  certPem: string
  /** Path of a file holding certPem. */
  certFile: string
  /** A server certificate for these DNS names and IP addresses, signed by this CA. */
  issue(dnsNames: string[], ipAddresses?: string[]): Promise<IssuedCertificate>
}

/** Where the real PostgreSQL that stands for a Flexible Server listens (the "private network"). */
export interface PostgresAddress {
  host: string
  port: number
}

export interface LookupRequest {
  /** Where to connect (the real cluster), and the name to verify the certificate against (the FQDN). */
  address: PostgresAddress
  serverName: string
  database: string
  user: string
  password: string
  /** The linked service's sslMode number (src/ssl-modes.ts; the action writes only the encrypted ones). */
  sslMode: number
  query: string
  caPem: string
  timeoutMs: number
}

export type LookupResult =
  | { ok: true; firstRow: Record<string, unknown> }
  | { ok: false; errorCode: string; message: string }

/** One test of a Deny rule on the request body (policy's `field` conditions, as far as we need). */
export interface PolicyCondition {
  /** A dotted path into the request body: 'properties.privateEndpoint.id'. */
  field: string
  exists?: boolean
  equals?: string
  notEquals?: string
  /** The field (an ARM id) names another subscription than the resource's own. */
  otherSubscription?: boolean
}

/** A policy assignment whose definition denies a resource type's writes when its conditions hold. */
export interface DenyPolicySeed {
  /** The assignment: name (its id's last segment), display name and scope (it applies at and below). */
  assignment: { name: string; displayName: string; scope: string }
  /** Defaults: id `/providers/Microsoft.Authorization/policyDefinitions/<name>` (a built-in one). */
  definition: { name: string; displayName: string; id?: string }
  /** The governed type: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections'. */
  resourceType: string
  /** Denies when all of these hold (none = every write of the type)… */
  allOf?: PolicyCondition[]
  /** …and, when given, at least one of these. */
  anyOf?: PolicyCondition[]
}

/** A management lock (Microsoft.Authorization/locks) on a scope. */
export interface LockSeed {
  name: string
  /** The locked resource group or resource; everything below it is locked too. */
  scope: string
  level: 'CanNotDelete' | 'ReadOnly'
}

/** What the resource providers are built from. */
export interface ProviderContext {
  scenario: Scenario
  delays: Delays
  /** where the real PostgreSQL standing for a server listens (undefined = none started) */
  postgresAddress(serverId: string): PostgresAddress | undefined
  runLookup(req: LookupRequest): Promise<LookupResult>
  caPem: string
}
