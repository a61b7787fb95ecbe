// Git-integrated factories: a release from Git deletes what its ARM template lacks, and Git mode
// hides live-only objects, so apply says so and (export-path) writes what it wrote as Studio's files.
import { lstat, mkdir, realpath, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ActionError } from '../errors.js'
import { quoted } from '../escape.js'
import type { StepOutcome } from '../report.js'
import { requestOptions, type StepContext } from './context.js'
import { postgresGroupId } from '../private-link.js'
import type { EndpointResult } from './endpoint.js'
import { isOwnAnnotation, withoutEncryptedCredential } from './linked-service.js'
import { gitIntegrationOf, type GitIntegration, type PreflightFacts } from './preflight.js'

type Json = Record<string, unknown>

/** What apply wrote, as the export needs it. */
export interface WrittenObjects {
  managedVirtualNetwork: string
  endpoint: { name: string; privateLinkResourceId: string; groupId: string; serverFqdn: string }
  /** The linked service's properties as written (secrets included: they are masked here). */
  linkedService: { name: string; properties: Json }
}

/** A file in the factory's Git layout: `path` relative to the root folder, '/'-separated. */
export interface GitFile {
  path: string
  content: string
  /** Written only when absent (the managed VNet's file: Studio's, never ours to change). */
  ifAbsent?: boolean
}

/** What Data Factory Studio itself commits for a SecureString: the value never leaves the factory. */
const secureStringPlaceholder = '**********'

/** `properties` with every SecureString value replaced by the placeholder; the paths replaced. */
export function maskSecureStrings(value: unknown, at = ''): { value: unknown; masked: string[] } {
  if (Array.isArray(value)) {
    const items = value.map((item, index) => maskSecureStrings(item, `${at}[${index}]`))
    return { value: items.map((item) => item.value), masked: items.flatMap((item) => item.masked) }
  }
  if (value === null || typeof value !== 'object') return { value, masked: [] }
  if ((value as Json).type === 'SecureString')
    return { value: { type: 'SecureString', value: secureStringPlaceholder }, masked: [at] }
  const entries = Object.entries(value).map(([key, inner]) => {
    const result = maskSecureStrings(inner, at ? `${at}.${key}` : key)
    return { key, ...result }
  })
  return {
    value: Object.fromEntries(entries.map(({ key, value: inner }) => [key, inner])),
    masked: entries.flatMap((entry) => entry.masked)
  }
}

/** An entity name as a path segment; Azure's name rules already exclude these, this is the backstop. */
function segment(kind: string, name: string): string {
  if (!name || name === '.' || name === '..' || /[/\\\p{Cc}]/u.test(name)) {
    throw new ActionError(`Cannot export ${kind} ${quoted(name)}: its name is not a file name.`, {
      resource: name,
      hint: 'Rename it in Data Factory, or remove export-path.'
    })
  }
  return name
}

/** Studio's formatting: JSON indented with tabs. */
function studioJson(value: unknown): string {
  return JSON.stringify(value, null, '\t')
}

/**
 * The files Data Factory Studio commits for these objects (layout and shapes as in Git-integrated
 * factory repositories): the linked service without this action's own annotations or an
 * encryptedCredential (bound to this factory) and with SecureStrings masked, the managed private
 * endpoint, and the managed VNet (only if absent).
 * Returns the files and the SecureString paths masked. Throws ActionError on a name that is no
 * file name.
 */
export function gitFiles(objects: WrittenObjects): { files: GitFile[]; masked: string[] } {
  const { managedVirtualNetwork: vnet, endpoint, linkedService } = objects
  const annotations = linkedService.properties.annotations
  const { value: properties, masked } = maskSecureStrings({
    ...withoutEncryptedCredential(linkedService.properties),
    ...(Array.isArray(annotations)
      ? { annotations: annotations.filter((annotation) => !isOwnAnnotation(annotation)) }
      : {})
  })
  const vnetFolder = `managedVirtualNetwork/${segment('managed virtual network', vnet)}`
  const files: GitFile[] = [
    {
      path: `linkedService/${segment('linked service', linkedService.name)}.json`,
      content: studioJson({
        name: linkedService.name,
        type: 'Microsoft.DataFactory/factories/linkedservices',
        properties
      })
    },
    {
      path: `${vnetFolder}/managedPrivateEndpoint/${segment('managed private endpoint', endpoint.name)}.json`,
      content: studioJson({
        name: endpoint.name,
        properties: {
          privateLinkResourceId: endpoint.privateLinkResourceId,
          groupId: endpoint.groupId,
          fqdns: [endpoint.serverFqdn]
        }
      })
    },
    {
      path: `${vnetFolder}.json`,
      content: studioJson({
        name: vnet,
        type: 'Microsoft.DataFactory/factories/managedvirtualnetworks',
        properties: {}
      }),
      ifAbsent: true
    }
  ]
  return { files, masked }
}

function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

/**
 * Writes `files` under `<workspace>/<exportPath>` (folders created as needed). Refuses to write
 * outside the workspace through a symbolic link. Returns the paths written, relative to the
 * workspace with '/' separators (an `ifAbsent` file that existed is not written). Throws
 * ActionError when a file cannot be written.
 */
export async function writeGitFiles(
  workspace: string,
  exportPath: string,
  files: GitFile[]
): Promise<string[]> {
  const written: string[] = []
  const realWorkspace = await realpath(workspace)
  for (const file of files) {
    const relative = path.posix.join(exportPath, file.path)
    const target = path.join(realWorkspace, ...relative.split('/'))
    try {
      await mkdir(path.dirname(target), { recursive: true })
      const folder = await realpath(path.dirname(target))
      const link = await lstat(target).then(
        (stats) => stats.isSymbolicLink(),
        () => false
      )
      if (!isInside(realWorkspace, folder) || link)
        throw new Error('a symbolic link points out of the workspace or at the file')
      await writeFile(target, file.content, { flag: file.ifAbsent ? 'wx' : 'w' })
      written.push(relative)
    } catch (error) {
      if (file.ifAbsent && (error as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw new ActionError(
        `Could not write ${quoted(relative)} in the workspace: ${error instanceof Error ? error.message : String(error)}.`,
        {
          resource: relative,
          cause: error,
          hint: 'Check that export-path names a writable folder of the checked-out repository (no file or outward symbolic link in its place), or remove export-path.'
        }
      )
    }
  }
  return written
}

const sampleScript =
  'https://learn.microsoft.com/azure/data-factory/continuous-integration-delivery-sample-script'

/**
 * The warnings for the summary: what a Git release may do to the objects this run wrote, and how
 * to keep them (source: Microsoft's sample pre/post-deployment script deletes linked services,
 * datasets, pipelines… absent from the ARM template; Git mode does not show live-only objects).
 */
export function gitNotes(
  git: GitIntegration | undefined,
  factory: string,
  exported: { exportPath?: string; masked: string[] }
): string[] {
  if (!git) return []
  const where = `${git.host} repository ${quoted(git.repository)}, collaboration branch ${quoted(git.collaborationBranch)}, root folder ${quoted(git.rootFolder)}`
  const notes = [
    `Data factory ${quoted(factory)} is Git-integrated (${where}). The linked service and managed private endpoint this action wrote live are not in Git: Data Factory Studio in Git mode does not show them, and the next publish or ARM-template release can delete them (Microsoft's pre/post-deployment script, ${sampleScript}, deletes linked services, datasets, pipelines… absent from the template).`,
    exported.exportPath === undefined
      ? `To keep them, set export-path to the factory's root folder in your checkout and commit the files it writes to the collaboration branch ${quoted(git.collaborationBranch)}.`
      : `Commit the files export-path writes under ${quoted(exported.exportPath)} (output export-files) to the collaboration branch ${quoted(git.collaborationBranch)}, under root folder ${quoted(git.rootFolder)}, so the next publish or release keeps the objects.`
  ]
  if (exported.masked.length) {
    notes.push(
      `The exported linked service holds no secret: ${exported.masked.join(', ')} is the placeholder \`${secureStringPlaceholder}\`. Supply the password at release time (its ARM template parameter) or move it to Key Vault (password-key-vault-linked-service).`
    )
  }
  return notes
}

/** What apply wrote, as later steps hold it: the endpoint, and the linked service's properties. */
export interface AppliedObjects {
  endpoint: Pick<EndpointResult, 'name'>
  linkedServiceProperties: Json
}

/**
 * After apply (or in plan) on a Git-integrated factory, or with export-path: warns what a Git
 * release may do and, in apply with export-path, writes the factory's Git files (output
 * export-files). `applied` is undefined in plan mode. Throws ActionError when a file cannot be written.
 */
/**
 * The factory's Git repository (undefined in live mode), read when preflight did not need the
 * factory: only a run that writes something (or asks for export-path) pays for this read.
 */
async function readGitIntegration(context: StepContext): Promise<GitIntegration | undefined> {
  const factory = await context.azure.readFactory(requestOptions(context))
  return gitIntegrationOf(factory.repoConfiguration)
}

export async function exportToGit(
  context: StepContext,
  preflight: PreflightFacts,
  applied: AppliedObjects | undefined,
  workspace = process.env.GITHUB_WORKSPACE || process.cwd()
): Promise<StepOutcome<void>> {
  const { settings, ledger } = context
  const { exportPath } = settings
  const git = preflight.factoryRead ? preflight.git : await readGitIntegration(context)
  let files: string[] = []
  let masked: string[] = []
  if (exportPath !== undefined && applied) {
    const built = gitFiles({
      managedVirtualNetwork: settings.managedVirtualNetwork,
      endpoint: {
        name: applied.endpoint.name,
        privateLinkResourceId: preflight.serverId,
        groupId: postgresGroupId,
        serverFqdn: preflight.serverFqdn
      },
      linkedService: {
        name: settings.linkedService.name,
        properties: applied.linkedServiceProperties
      }
    })
    masked = built.masked
    files = await writeGitFiles(workspace, exportPath, built.files)
    ledger.output('export-files', JSON.stringify(files))
  }
  for (const note of gitNotes(git, settings.factory.name, { exportPath, masked })) ledger.note(note)
  return {
    value: undefined,
    found: git
      ? `Git-integrated factory (${git.host} ${git.repository}, branch ${git.collaborationBranch})`
      : 'factory in live mode (no Git)',
    done: files.length
      ? `wrote ${files.length} file(s) under ${quoted(exportPath ?? '')}`
      : `nothing written (${exportPath === undefined ? 'no export-path' : 'plan mode'})`
  }
}
