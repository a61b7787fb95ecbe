// The typed, validated form of every input: what the steps read instead of raw strings.
import type { CloudName } from './clouds.js'
import type { SslMode } from './ssl-modes.js'

/**
 * apply and destroy write; plan and check write nothing (check runs the connection test, whose
 * temporary objects are its only writes); approve writes only approvals on the server.
 */
export type Mode = 'apply' | 'plan' | 'destroy' | 'check' | 'approve'

/** The modes that report what apply would do instead of doing it. */
export function writesNothing(mode: Mode): boolean {
  return mode === 'plan' || mode === 'check'
}

/** Check reports drift as the change that would repair it, never stops at it; the others follow on-drift. */
export function driftPolicy(settings: Pick<Settings, 'mode' | 'onDrift'>): DriftPolicy {
  return settings.mode === 'check' ? 'recreate' : settings.onDrift
}
export type DriftPolicy = 'fail' | 'recreate'
export type AuthMethod = 'oidc' | 'client-secret' | 'azure-cli' | 'managed-identity'
export type ApprovalMode = 'auto' | 'wait' | 'none'
export type LinkedServiceAuth = 'password' | 'system-assigned-identity' | 'service-principal'

export interface CloudSettings {
  name: CloudName
  resourceManagerEndpoint: string
  authorityHost: string
  /** True when authority-host was overridden: instance discovery must then be off. */
  customAuthorityHost: boolean
  oidcAudience: string
}

export interface SignInSettings {
  /** `auto` is still unresolved here: it depends on the runner's environment (see azure/sign-in.ts). */
  requested: AuthMethod | 'auto'
  clientId?: string
  tenantId?: string
  clientSecret?: string
  cloud: CloudSettings
}

export interface FactoryRef {
  subscriptionId: string
  resourceGroup: string
  name: string
}

export interface ServerRef {
  subscriptionId: string
  resourceGroup: string
  name: string
  /** `/subscriptions/…/flexibleServers/<name>` as given or built from the parts. */
  id: string
}

export interface KeyVaultSecretRef {
  /** The factory's AzureKeyVault linked service. */
  store: string
  secretName: string
  secretVersion?: string
}

export type DatabaseCredential =
  /** Destroy only deletes the linked service and approve only approves: neither reads credential inputs. */
  | { kind: 'not-needed' }
  | { kind: 'password'; password: string }
  | { kind: 'key-vault-password'; secret: KeyVaultSecretRef }
  | { kind: 'system-assigned-identity' }
  | {
      kind: 'service-principal'
      servicePrincipalId: string
      tenantId: string
      key: KeyVaultSecretRef
    }

export interface LinkedServiceSettings {
  name: string
  database: string
  username?: string
  port: number
  sslMode: SslMode
  credential: DatabaseCredential
}

export interface Settings {
  mode: Mode
  onDrift: DriftPolicy
  /** In check: whether drift fails the job (a failed connection test always does). */
  failOnDrift: boolean
  force: boolean
  signIn: SignInSettings
  factory: FactoryRef
  managedVirtualNetwork: string
  integrationRuntime: string
  endpointName: string
  server: ServerRef
  approval: { mode: ApprovalMode; timeoutMs: number }
  linkedService: LinkedServiceSettings
  connectionTest: { enabled: boolean; query: string; timeoutMs: number }
  pollIntervalMs: number
  timeoutMs: number
  /** For the plan comment on a pull request and the check's issue; undefined = neither. */
  githubToken?: string
  /** Where apply writes the factory's Git files, relative to GITHUB_WORKSPACE; undefined = nowhere. */
  exportPath?: string
}
