// The recorded-answer contract's common part: the answers live Azure gave (public recordings in
// ../shared/reference/azure-recordings, beside the clone), and a generic comparison of two answers
// by status, the headers a client acts on, and every key, value type and enum spelling.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** One HTTP interaction as recorded (see the folder's README). */
export interface Recording {
  file: string
  request: { method: string; uri: string; body: unknown }
  response: Answer
}

/** An HTTP answer: status, headers (any case), body (undefined when none). */
export interface Answer {
  status: number
  headers: Record<string, string | undefined>
  body: unknown
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * The recordings folder: `../shared/reference/azure-recordings` from the repository root (the
 * clone's parent holds `shared/`, in CI too). Throws when it is absent, so the contract never
 * passes by finding nothing. `root`: the repository root (this clone's, unless a test says otherwise).
 */
export function recordingsDir(root = repoRoot): string {
  const dir = path.resolve(root, '..', 'shared', 'reference', 'azure-recordings')
  if (!existsSync(dir)) {
    throw new Error(
      `The recorded Azure answers are not at ${dir}: the recorded-answer contract needs shared/ beside the clone (its parent folder).`
    )
  }
  return dir
}

/** Every recording's file name (`*.json`); throws when there are none. */
export function recordingFiles(dir = recordingsDir()): string[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
  if (files.length === 0) throw new Error(`No recordings (*.json) in ${dir}.`)
  return files
}

/** One recording by file name. An empty body (a DELETE's "") reads as no body. */
export function loadRecording(file: string, dir = recordingsDir()): Recording {
  const raw = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Omit<Recording, 'file'>
  const body = raw.response.body === '' ? undefined : raw.response.body
  return { file, request: raw.request, response: { ...raw.response, body } }
}

/** The headers a client acts on (long-running operations, throttling): compared present or absent. */
export const headersThatMatter = ['azure-asyncoperation', 'location', 'retry-after']

/**
 * Keys whose string values are spellings a client compares (states, kinds, codes): compared
 * literally. Other strings (names, ids, times, messages) are compared by type only.
 */
export const enumKeys = new Set([
  'status',
  'provisioningState',
  'actionsRequired',
  'type',
  'invokedByType',
  'operation',
  'code',
  'publicNetworkAccess',
  'passwordAuth',
  'activeDirectoryAuth',
  'replicationRole',
  'role',
  'tier',
  'state',
  'mode',
  'autoGrow',
  'geoRedundantBackup',
  'customWindow'
])

/** `path → what is there`: a JSON type, an enum key's value, an empty or non-empty array. */
export type Shape = Map<string, string>

function walk(value: unknown, at: string, key: string, into: Shape): void {
  if (Array.isArray(value)) {
    into.set(at, value.length ? 'array' : 'empty array')
    for (const item of value) walk(item, `${at}[]`, key, into)
    return
  }
  if (value === null) into.set(at, 'null')
  else if (typeof value === 'object') {
    into.set(at, 'object')
    for (const [inner, innerValue] of Object.entries(value)) {
      walk(innerValue, `${at}.${inner}`, inner, into)
    }
  } else if (typeof value === 'string' && enumKeys.has(key))
    into.set(at, `string ${JSON.stringify(value)}`)
  else into.set(at, typeof value)
}

/** The shape of an answer: `status`, `header <name>` (present) and every body path. */
export function shapeOf(answer: Answer): Shape {
  const shape: Shape = new Map([['status', String(answer.status)]])
  const present = new Set(Object.keys(answer.headers).map((name) => name.toLowerCase()))
  for (const name of headersThatMatter) {
    shape.set(
      `header ${name}`,
      present.has(name) && answer.headers[name] !== '' ? 'present' : 'absent'
    )
  }
  if (answer.body === undefined) shape.set('body', 'none')
  else walk(answer.body, 'body', '', shape)
  return shape
}

/** Any case of header names: the emulator's `Azure-AsyncOperation` is the recording's `azure-asyncoperation`. */
function lowerCaseHeaders(answer: Answer): Answer {
  return {
    ...answer,
    headers: Object.fromEntries(
      Object.entries(answer.headers).map(([name, value]) => [name.toLowerCase(), value])
    )
  }
}

/**
 * Where `emulated` differs from `recorded`: one line per path (missing, extra, other type or
 * spelling). `valuesMayDiffer`: paths whose enum spelling may differ (with the reason in the
 * caller), compared by type only. Empty when they agree.
 */
export function compareAnswers(
  recorded: Answer,
  emulated: Answer,
  valuesMayDiffer: readonly string[] = []
): string[] {
  const want = shapeOf(lowerCaseHeaders(recorded))
  const got = shapeOf(lowerCaseHeaders(emulated))
  const typeOnly = (text: string | undefined) => text?.replace(/^string .*$/, 'string')
  const differences: string[] = []
  for (const at of new Set([...want.keys(), ...got.keys()])) {
    const [recordedHas, emulatorHas] = [want.get(at), got.get(at)]
    const same = valuesMayDiffer.includes(at)
      ? typeOnly(recordedHas) === typeOnly(emulatorHas)
      : recordedHas === emulatorHas
    if (same) continue
    differences.push(
      `${at}: recorded ${recordedHas ?? '(no such key)'}, emulator ${emulatorHas ?? '(no such key)'}`
    )
  }
  return differences
}

/** A copy of `value` with the key `from` renamed to `to` wherever it occurs (to prove the contract bites). */
export function renameKey(value: unknown, from: string, to: string): unknown {
  if (Array.isArray(value)) return value.map((item) => renameKey(item, from, to))
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key === from ? to : key,
      renameKey(inner, from, to)
    ])
  )
}
