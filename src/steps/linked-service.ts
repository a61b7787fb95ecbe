// The AzurePostgreSql (version 2.0) linked service over the managed-VNet runtime. The SDK's model
// drops v2 typeProperties, so the existing one is compared through its raw JSON body.
import { randomBytes, scryptSync } from 'node:crypto'
import type { RawLinkedService } from '../azure/gateway.js'
import { armIds } from '../azure/ids.js'
import { clouds } from '../clouds.js'
import { ActionError, statusCodeOf } from '../errors.js'
import type { StepOutcome } from '../report.js'
import {
  driftPolicy,
  writesNothing,
  type KeyVaultSecretRef,
  type Mode,
  type Settings
} from '../settings.js'
import { sslModeNumbers } from '../ssl-modes.js'
import { requestOptions, type StepContext } from './context.js'
import type { PreflightFacts } from './preflight.js'
import { createProbe, probeNames, type ProbeNames } from './probes.js'

type Json = Record<string, unknown>

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

/**
 * The server's `systemData.createdAt` when the linked service was written: a server recreated under
 * the same name (restored, say) keeps its resource id but not this, and loses its connections.
 */
const serverCreatedPrefix = 'adf-pg-private-link:server-created:'

/** The annotations this action keeps for itself (state, not configuration: never exported). */
export function isOwnAnnotation(annotation: unknown): annotation is string {
  return (
    isFingerprint(annotation) ||
    (typeof annotation === 'string' && annotation.startsWith(serverCreatedPrefix))
  )
}

/** The server creation time a linked service's body recorded (ISO 8601), if any. */
export function recordedServerCreatedAt(body: unknown): string | undefined {
  const annotations = asObject(asObject(body).properties).annotations
  const found = (Array.isArray(annotations) ? annotations : []).find(
    (annotation): annotation is string =>
      typeof annotation === 'string' && annotation.startsWith(serverCreatedPrefix)
  )
  return found?.slice(serverCreatedPrefix.length)
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

/**
 * Data Factory's own encryption of the inline secrets it stored, added to what it answers
 * (cliext-datafactory-main_linkedservice-put-securestring.json). Bound to that factory (an
 * encryptedCredential cannot be moved to another: MicrosoftDocs/azure-docs PR #128343) and stale
 * once the credential changes, so no write, staged copy or export ever carries it.
 */
const encryptedCredentialKey = 'encryptedCredential'

/** `properties` without `typeProperties.encryptedCredential` (see encryptedCredentialKey). */
export function withoutEncryptedCredential(properties: Json): Json {
  const typeProperties = asObject(properties.typeProperties)
  if (!(encryptedCredentialKey in typeProperties)) return properties
  const rest = Object.entries(typeProperties).filter(([key]) => key !== encryptedCredentialKey)
  return { ...properties, typeProperties: Object.fromEntries(rest) }
}

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
        azureCloudType: clouds[settings.signIn.cloud.name].dataFactoryCloudType
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
  const serverCreatedAt = recordedServerCreatedAt({ properties })
  if (serverCreatedAt) fields.set('server-created', serverCreatedAt)
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
  // A linked service written before the server's creation time was kept is not rewritten only to record it.
  if (!before.has('server-created')) after.delete('server-created')
  const fields = [...new Set([...before.keys(), ...after.keys()])]
    .filter((field) => before.get(field) !== after.get(field))
    .map((field) => field.replace(/^typeProperties\.password\..*$/, 'typeProperties.password'))
  const unique = [...new Set(fields)].sort()
  return unique.length ? { kind: 'update', fields: unique } : { kind: 'same' }
}

/**
 * The full properties to write: the desired ones, plus what someone else set on the existing
 * linked service (description, parameters, other annotations, unmanaged typeProperties, never
 * its encryptedCredential), plus the password fingerprint (same salt as before, so an unchanged
 * password compares equal) and the server's creation time (ISO 8601; undefined when the server's
 * answer had none).
 */
export function mergeWithExisting(
  desired: Json,
  existingBody: unknown,
  password?: string,
  serverCreatedAt?: string
): Json {
  const existing = asObject(asObject(existingBody).properties)
  const sameType = String(existing.type ?? '').toLowerCase() === String(desired.type).toLowerCase()
  const kept = sameType ? existing : {}
  const annotations = (Array.isArray(kept.annotations) ? kept.annotations : []).filter(
    (annotation) => !isOwnAnnotation(annotation)
  )
  if (serverCreatedAt) annotations.push(`${serverCreatedPrefix}${serverCreatedAt}`)
  if (password !== undefined) {
    const previous = (Array.isArray(kept.annotations) ? kept.annotations : []).find(isFingerprint)
    const salt = (previous && fingerprintSalt(previous)) || newSalt()
    annotations.push(passwordFingerprint(password, salt))
  }
  const unmanaged = Object.fromEntries(
    Object.entries(asObject(kept.typeProperties)).filter(
      ([key]) => !managedTypeProperties.includes(key) && key !== encryptedCredentialKey
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
  return armIds(settings).factoryChild('linkedservices', settings.linkedService.name)
}

/**
 * How apply writes a change: `stage` writes the new definition as a temporary linked service for
 * the connection test and the real one only after the test passes; `direct` writes it untested
 * (no test will run); `plan` writes nothing. `none`: nothing to write.
 */
export type WritePath = 'none' | 'plan' | 'direct' | 'stage'

export interface TestConditions {
  mode: Mode
  testEnabled: boolean
  /** False when approval is `none` and the endpoint is not approved: no test could pass. */
  endpointApproved: boolean
}

/** Why no connection test will run, or undefined when one will (the same rule for both steps). */
export function untestedReason(conditions: TestConditions): string | undefined {
  if (!conditions.testEnabled) return 'test-connection is false'
  if (conditions.mode === 'plan') return 'plan mode runs no pipeline'
  if (!conditions.endpointApproved)
    return conditions.mode === 'check'
      ? 'the endpoint is not approved on the server'
      : 'the endpoint is not approved (approval: none)'
  return undefined
}

export function writePath(decision: LinkedServiceDecision, conditions: TestConditions): WritePath {
  if (decision.kind === 'same') return 'none'
  if (writesNothing(conditions.mode)) return 'plan'
  return untestedReason(conditions) === undefined ? 'stage' : 'direct'
}

/** Conditional writes that lost a race are read and decided again, this many times in all. */
export const maxWriteAttempts = 3

/** Whether a failed write is retried: only an If-Match precondition failure (HTTP 412), bounded. */
export function retryWrite(error: unknown, attempt: number): boolean {
  return statusCodeOf(error) === 412 && attempt < maxWriteAttempts
}

/** A change proven through a temporary copy before it is written (see `writeTestedLinkedService`). */
export interface StagedLinkedService {
  /** Whether the linked service existed (so the failure can say it was kept unchanged). */
  existed: boolean
  /** What was read and decided before the test: the swap writes it with that etag. */
  decided: Decided
}

export interface LinkedServiceResult {
  name: string
  /** The linked service the connection test runs through: `name`, or the staged copy. */
  testThrough: string
  /** Names for this run's temporary objects. */
  probes: ProbeNames
  staged?: StagedLinkedService
  /** The properties the linked service now has (unchanged or written); undefined in plan or when staged. */
  properties?: Json
  /** Why no connection test can run through it (check: it does not exist as this type yet). */
  untested?: string
}

type ObservedLinkedService = RawLinkedService

/** The linked service as Azure answers it (raw body, etag, id); undefined when there is none. */
export async function readLinkedService(
  context: StepContext,
  name: string
): Promise<ObservedLinkedService | undefined> {
  return context.azure.findRawLinkedService(name, requestOptions(context))
}

function passwordOf(settings: Settings): string | undefined {
  const { credential } = settings.linkedService
  return credential.kind === 'password' ? credential.password : undefined
}

/** What was read, what apply would write, and the decision between them. */
export interface Decided {
  observed?: ObservedLinkedService
  desired: Json
  decision: LinkedServiceDecision
}

/** Reads the linked service and decides what to write; refuses a replace without on-drift. */
async function observeAndDecide(context: StepContext, preflight: PreflightFacts): Promise<Decided> {
  const { settings } = context
  const name = settings.linkedService.name
  const observed = await readLinkedService(context, name)
  const desired = mergeWithExisting(
    desiredLinkedService(settings, preflight.serverFqdn),
    observed?.body,
    passwordOf(settings),
    preflight.serverCreatedAt
  )
  const decision = diffLinkedService(observed?.body, desired)
  if (decision.kind === 'replace' && driftPolicy(settings) !== 'recreate') {
    throw new ActionError(
      `Linked service '${name}' exists with type ${decision.existingType}, not AzurePostgreSql.`,
      {
        resource: linkedServiceId(settings),
        hint: 'Set on-drift: recreate to replace it, or choose another linked-service-name.'
      }
    )
  }
  return { observed, desired, decision }
}

const planned = { create: 'create', update: 'update', replace: 'replace' } as const
const applied = { create: 'created', update: 'updated', replace: 'replaced' } as const

function describeDecision(name: string, decision: LinkedServiceDecision): string {
  return {
    create: 'no linked service',
    same: `linked service ${name}, up to date`,
    update: `linked service ${name}, differs`,
    replace: `linked service ${name} of type ${decision.kind === 'replace' ? decision.existingType : ''}`
  }[decision.kind]
}

function details(decision: LinkedServiceDecision): { fields?: string[]; reason?: string } {
  return {
    fields: decision.kind === 'update' ? decision.fields : undefined,
    reason: decision.kind === 'replace' ? `it was of type ${decision.existingType}` : undefined
  }
}

function fieldList(decision: LinkedServiceDecision): string {
  return decision.kind === 'update' ? ` (${decision.fields.join(', ')})` : ''
}

/**
 * Writes the linked service, conditional on the etag read (If-Match), so a change someone made
 * meanwhile is never overwritten unseen: on HTTP 412 it reads and decides again (bounded).
 * A create is unconditional: the SDK's createOrUpdate has no If-None-Match. Returns what was
 * decided last and acted on (decision `same` when the re-read found nothing left to do).
 */
async function writeLinkedService(
  context: StepContext,
  preflight: PreflightFacts,
  first: Decided
): Promise<Decided> {
  const { settings, ledger } = context
  const name = settings.linkedService.name
  const id = linkedServiceId(settings)
  let decided = first
  for (let attempt = 1; ; attempt++) {
    const { decision, desired, observed } = decided
    if (decision.kind === 'same') return decided
    try {
      const written = await context.azure.writeLinkedService(name, desired, {
        ...requestOptions(context),
        ifMatch: observed?.etag
      })
      ledger.change({
        action: applied[decision.kind],
        resource: 'linked-service',
        id: written.id ?? id,
        ...details(decision)
      })
      ledger.output('linked-service-id', written.id ?? id)
      return decided
    } catch (error) {
      if (!retryWrite(error, attempt)) throw error
      context.log.info(
        `Linked service '${name}' changed while this run wrote it: reading it again.`
      )
      decided = await observeAndDecide(context, preflight)
    }
  }
}

/**
 * Observes the linked service and decides; then, by `writePath`: writes nothing (plan records
 * what it would do), writes it directly (no test will run), or stages the new definition as a
 * temporary linked service for the connection test (`writeTestedLinkedService` writes the real
 * one after the test passed).
 */
export async function ensureLinkedService(
  context: StepContext,
  preflight: PreflightFacts,
  conditions: Omit<TestConditions, 'mode'>
): Promise<StepOutcome<LinkedServiceResult>> {
  const { settings, ledger } = context
  const name = settings.linkedService.name
  const id = linkedServiceId(settings)
  ledger.output('linked-service-name', name)
  const decided = await observeAndDecide(context, preflight)
  const { decision } = decided
  const probes = probeNames(
    new Date(),
    context.run.runId,
    context.run.runAttempt,
    randomBytes(3).toString('hex')
  )
  const result: LinkedServiceResult = { name, testThrough: name, probes }
  const found = describeDecision(name, decision)
  const path = writePath(decision, { ...conditions, mode: ledger.mode })
  if (path === 'none' || decision.kind === 'same') {
    ledger.output('linked-service-id', decided.observed?.id ?? id)
    return { value: { ...result, properties: decided.desired }, found, done: 'nothing to change' }
  }
  if (path === 'plan') {
    ledger.change({
      action: planned[decision.kind],
      resource: 'linked-service',
      id,
      ...details(decision)
    })
    // Check tests the linked service as it is; there is none of this type to test before a create or replace.
    const untested =
      decision.kind === 'update'
        ? undefined
        : `there is no AzurePostgreSql linked service '${name}' to test yet`
    return {
      value: { ...result, untested },
      found,
      done: `would ${planned[decision.kind]}${fieldList(decision)}`
    }
  }
  if (path === 'direct') {
    const { decision: acted, desired } = await writeLinkedService(context, preflight, decided)
    const why = untestedReason({ ...conditions, mode: ledger.mode })
    return {
      value: { ...result, properties: desired },
      found,
      done:
        acted.kind === 'same'
          ? 'nothing to change (someone else wrote the same meanwhile)'
          : `${applied[acted.kind]}${fieldList(acted)}; not tested (${why})`
    }
  }
  // The connection test deletes the copy; the post step, if this run dies first (refused: nothing to delete).
  await createProbe(context.state, 'linkedServices', probes.linkedService, () =>
    context.azure.writeLinkedService(
      probes.linkedService,
      {
        ...decided.desired,
        description: `Temporary copy of the new definition of ${name}, made by adf-pg-private-link to test it; deleted after the run.`
      },
      requestOptions(context)
    )
  )
  return {
    value: {
      ...result,
      testThrough: probes.linkedService,
      staged: { existed: decision.kind !== 'create', decided }
    },
    found,
    done: `to ${planned[decision.kind]}${fieldList(decision)}: staged as temporary '${probes.linkedService}'; written only after the connection test passes`
  }
}

/**
 * After the connection test passed through the staged copy: writes the real linked service.
 * Returns the properties it now has.
 */
export async function writeTestedLinkedService(
  context: StepContext,
  preflight: PreflightFacts,
  linkedService: LinkedServiceResult & { staged: StagedLinkedService }
): Promise<StepOutcome<Json>> {
  const { decision: acted, desired } = await writeLinkedService(
    context,
    preflight,
    linkedService.staged.decided
  )
  const found = `the connection test passed through '${linkedService.testThrough}'`
  // A changed password reaching this point connected through the staged copy first.
  const rotated =
    acted.kind === 'update' && acted.fields.includes('password')
      ? '; password rotation succeeded (the new password connected before it was written)'
      : ''
  return {
    value: desired,
    found,
    done:
      acted.kind === 'same'
        ? 'nothing to change (someone else wrote the same meanwhile)'
        : `${applied[acted.kind]}${fieldList(acted)}${rotated}`
  }
}
