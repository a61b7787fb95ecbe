// The AzurePostgreSql (version 2.0) linked service over the managed-VNet runtime. The SDK's model
// drops v2 typeProperties, so the existing one is compared through its raw JSON body.
import type { LinkedServiceUnion } from '@azure/arm-datafactory'
import { randomBytes, scryptSync } from 'node:crypto'
import { withRawBody } from '../azure.js'
import { ActionError, describeFailure, unlessNotFound } from '../errors.js'
import type { StepOutcome } from '../report.js'
import type { CloudName, KeyVaultSecretRef, Settings, SslMode } from '../settings.js'
import { requestOptions, type StepContext } from './context.js'
import type { PreflightFacts } from './preflight.js'

type Json = Record<string, unknown>

const sslModeNumbers: Record<SslMode, number> = {
  require: 3,
  'verify-ca': 4,
  'verify-full': 5
}

const azureCloudTypes: Record<CloudName, string> = {
  AzureCloud: 'AzurePublic',
  AzureUSGovernment: 'AzureUsGovernment',
  AzureChinaCloud: 'AzureChina'
}

/**
 * A SecureString password comes back masked, so it cannot be compared. Instead an annotation
 * keeps a salted scrypt fingerprint of it (slow to brute-force, never the password itself);
 * a different password gives a different fingerprint and the linked service is rewritten.
 */
export const fingerprintPrefix = 'adf-pg-private-link:password-scrypt:'

/** Factory Readers can read annotations: about 0.1 s per guess; scrypt needs 128·N·r bytes. */
const scryptCost = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }

export function passwordFingerprint(password: string, salt: string): string {
  const hash = scryptSync(password, Buffer.from(salt, 'base64'), 32, scryptCost).toString('base64')
  return `${fingerprintPrefix}${salt}:${hash}`
}

function newSalt(): string {
  return randomBytes(16).toString('base64')
}

/** The salt of a fingerprint annotation, to check the current password against it. */
export function fingerprintSalt(annotation: string): string | undefined {
  return annotation.startsWith(fingerprintPrefix)
    ? annotation.slice(fingerprintPrefix.length).split(':')[0]
    : undefined
}

function isFingerprint(annotation: unknown): annotation is string {
  return typeof annotation === 'string' && annotation.startsWith(fingerprintPrefix)
}

function keyVaultSecret(secret: KeyVaultSecretRef): Json {
  return {
    type: 'AzureKeyVaultSecret',
    store: { referenceName: secret.store, type: 'LinkedServiceReference' },
    secretName: secret.secretName,
    ...(secret.secretVersion ? { secretVersion: secret.secretVersion } : {})
  }
}

/** The `typeProperties` this action owns; anything else someone set is kept as is. */
const managedTypeProperties = [
  'server',
  'port',
  'database',
  'username',
  'sslMode',
  'authenticationType',
  'password',
  'servicePrincipalId',
  'servicePrincipalKey',
  'servicePrincipalCredentialType',
  'tenant',
  'azureCloudType',
  'credential',
  'connectionString'
]

/** The linked service properties apply writes (annotations are added by `mergeWithExisting`). */
export function desiredLinkedService(settings: Settings, serverFqdn: string): Json {
  const { linkedService, integrationRuntime } = settings
  const { credential } = linkedService
  const typeProperties: Json = {
    server: serverFqdn,
    port: linkedService.port,
    database: linkedService.database,
    sslMode: sslModeNumbers[linkedService.sslMode],
    ...(linkedService.username ? { username: linkedService.username } : {})
  }
  switch (credential.kind) {
    case 'password':
      Object.assign(typeProperties, {
        authenticationType: 'BasicAuth',
        password: { type: 'SecureString', value: credential.password }
      })
      break
    case 'key-vault-password':
      Object.assign(typeProperties, {
        authenticationType: 'BasicAuth',
        password: keyVaultSecret(credential.secret)
      })
      break
    case 'system-assigned-identity':
      typeProperties.authenticationType = 'SystemAssignedManagedIdentity'
      break
    case 'service-principal':
      Object.assign(typeProperties, {
        authenticationType: 'ServicePrincipal',
        servicePrincipalId: credential.servicePrincipalId,
        tenant: credential.tenantId,
        servicePrincipalCredentialType: 'ServicePrincipalKey',
        servicePrincipalKey: keyVaultSecret(credential.key),
        azureCloudType: azureCloudTypes[settings.signIn.cloud.name]
      })
  }
  return {
    type: 'AzurePostgreSql',
    version: '2.0',
    typeProperties,
    connectVia: { referenceName: integrationRuntime, type: 'IntegrationRuntimeReference' }
  }
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
}

function flatten(value: unknown, path: string, into: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, `${path}.${key}`, into)
  } else if (value !== undefined) {
    into.set(path, typeof value === 'string' ? value : JSON.stringify(value))
  }
}

/** The compared fields of linked service properties, as `path → text` (numbers and strings alike). */
function comparableFields(properties: Json): Map<string, string> {
  const fields = new Map<string, string>()
  flatten(properties.version, 'version', fields)
  flatten(properties.connectVia, 'connectVia', fields)
  const typeProperties = asObject(properties.typeProperties)
  for (const key of managedTypeProperties)
    flatten(typeProperties[key], `typeProperties.${key}`, fields)
  fields.delete('typeProperties.password.value') // a SecureString is masked when read: see fingerprint
  const fingerprint = (Array.isArray(properties.annotations) ? properties.annotations : []).find(
    isFingerprint
  )
  if (fingerprint) fields.set('password', fingerprint)
  return fields
}

export type LinkedServiceDecision =
  | { kind: 'create' }
  | { kind: 'same' }
  | { kind: 'update'; fields: string[] }
  | { kind: 'replace'; existingType: string }

/**
 * Compares the raw body Azure returned with the desired properties (already merged with the
 * existing ones). Fields are compared as text, so port 5432 equals "5432".
 */
export function diffLinkedService(existingBody: unknown, desired: Json): LinkedServiceDecision {
  if (existingBody === undefined) return { kind: 'create' }
  const existing = asObject(asObject(existingBody).properties)
  const existingType = String(existing.type ?? '')
  if (existingType.toLowerCase() !== String(desired.type).toLowerCase()) {
    return { kind: 'replace', existingType }
  }
  const before = comparableFields(existing)
  const after = comparableFields(desired)
  const fields = [...new Set([...before.keys(), ...after.keys()])]
    .filter((field) => before.get(field) !== after.get(field))
    .map((field) => field.replace(/^typeProperties\.password\..*$/, 'typeProperties.password'))
  const unique = [...new Set(fields)].sort()
  return unique.length ? { kind: 'update', fields: unique } : { kind: 'same' }
}

/**
 * The full properties to write: the desired ones, plus what someone else set on the existing
 * linked service (description, parameters, other annotations, unmanaged typeProperties), plus
 * the password fingerprint (same salt as before, so an unchanged password compares equal).
 */
export function mergeWithExisting(desired: Json, existingBody: unknown, password?: string): Json {
  const existing = asObject(asObject(existingBody).properties)
  const sameType = String(existing.type ?? '').toLowerCase() === String(desired.type).toLowerCase()
  const kept = sameType ? existing : {}
  const annotations = (Array.isArray(kept.annotations) ? kept.annotations : []).filter(
    (annotation) => !isFingerprint(annotation)
  )
  if (password !== undefined) {
    const previous = (Array.isArray(kept.annotations) ? kept.annotations : []).find(isFingerprint)
    const salt = (previous && fingerprintSalt(previous)) || newSalt()
    annotations.push(passwordFingerprint(password, salt))
  }
  const unmanaged = Object.fromEntries(
    Object.entries(asObject(kept.typeProperties)).filter(
      ([key]) => !managedTypeProperties.includes(key)
    )
  )
  return {
    ...(kept.description !== undefined ? { description: kept.description } : {}),
    ...(kept.parameters !== undefined ? { parameters: kept.parameters } : {}),
    ...desired,
    annotations,
    typeProperties: { ...unmanaged, ...asObject(desired.typeProperties) }
  }
}

export function linkedServiceId(settings: Settings): string {
  const { subscriptionId, resourceGroup, name } = settings.factory
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.DataFactory/factories/${name}/linkedservices/${settings.linkedService.name}`
}

export interface LinkedServiceResult {
  name: string
}

export async function ensureLinkedService(
  context: StepContext,
  preflight: PreflightFacts
): Promise<StepOutcome<LinkedServiceResult>> {
  const { settings, clients, ledger } = context
  const { resourceGroup, name: factory } = settings.factory
  const name = settings.linkedService.name
  const id = linkedServiceId(settings)
  ledger.output('linked-service-name', name)
  const existing = await describeFailure(
    'read the linked service',
    id,
    'Microsoft.DataFactory/factories/linkedservices/read',
    () =>
      unlessNotFound(() =>
        withRawBody((raw) =>
          clients.dataFactory.linkedServices.get(resourceGroup, factory, name, {
            ...requestOptions(context),
            ...raw
          })
        )
      )
  )
  const password =
    settings.linkedService.credential.kind === 'password'
      ? settings.linkedService.credential.password
      : undefined
  const desired = mergeWithExisting(
    desiredLinkedService(settings, preflight.serverFqdn),
    existing?.body,
    password
  )
  const decision = diffLinkedService(existing?.body, desired)
  const found = {
    create: 'no linked service',
    same: `linked service ${name}, up to date`,
    update: `linked service ${name}, differs`,
    replace: `linked service ${name} of type ${decision.kind === 'replace' ? decision.existingType : ''}`
  }[decision.kind]
  if (decision.kind === 'same') {
    ledger.output('linked-service-id', existing?.value.id ?? id)
    return { value: { name }, found, done: 'nothing to change' }
  }
  if (decision.kind === 'replace' && settings.onDrift !== 'recreate') {
    throw new ActionError(
      `Linked service '${name}' exists with type ${decision.existingType}, not AzurePostgreSql.`,
      {
        resource: id,
        hint: 'Set on-drift: recreate to replace it, or choose another linked-service-name.'
      }
    )
  }
  const fields = decision.kind === 'update' ? decision.fields : undefined
  const reason = decision.kind === 'replace' ? `it was of type ${decision.existingType}` : undefined
  const planned = { create: 'create', update: 'update', replace: 'replace' } as const
  const applied = { create: 'created', update: 'updated', replace: 'replaced' } as const
  if (ledger.mode === 'plan') {
    ledger.change({
      action: planned[decision.kind],
      resource: 'linked-service',
      id,
      fields,
      reason
    })
    return {
      value: { name },
      found,
      done: `would ${planned[decision.kind]}${fields ? ` (${fields.join(', ')})` : ''}`
    }
  }
  const written = await describeFailure(
    'write the linked service',
    id,
    'Microsoft.DataFactory/factories/linkedservices/write',
    () =>
      clients.dataFactory.linkedServices.createOrUpdate(
        resourceGroup,
        factory,
        name,
        { properties: desired as unknown as LinkedServiceUnion },
        requestOptions(context)
      )
  )
  ledger.change({
    action: applied[decision.kind],
    resource: 'linked-service',
    id: written.id ?? id,
    fields,
    reason
  })
  ledger.output('linked-service-id', written.id ?? id)
  return {
    value: { name },
    found,
    done: `${applied[decision.kind]}${fields ? ` (${fields.join(', ')})` : ''}`
  }
}
