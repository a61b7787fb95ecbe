// `npm run build`'s second half: writes dist/licenses.txt, every package the bundle contains with its
// licence text. ncc's own `--license` misses packages whose code sits below a nested package.json
// (`dist/esm/package.json` in the Azure SDK), so it named one package of dozens; here the package list
// comes from ncc's module stats and the licence texts from license-checker-rseidelsohn.
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { init, type ModuleInfos } from 'license-checker-rseidelsohn'

interface StatsModule {
  nameForCondition?: string
  modules?: StatsModule[]
}

/** The installed package folder a bundled file belongs to: up to its last `node_modules/<name>`. */
export function packageFolderOf(file: string): string | undefined {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file)
  return match?.[1]
}

/**
 * The packages (`name@version`, sorted) whose files ncc put into the bundle, from its `--stats-out`
 * JSON (webpack stats: each module's resource path in `nameForCondition`, concatenated ones nested).
 */
export async function bundledPackages(statsFile: string): Promise<string[]> {
  const stats = JSON.parse(await readFile(statsFile, 'utf8')) as { modules: StatsModule[] }
  const folders = new Set<string>()
  const walk = (modules: StatsModule[] = []): void => {
    for (const module of modules) {
      const folder = module.nameForCondition && packageFolderOf(module.nameForCondition)
      if (folder) folders.add(folder)
      walk(module.modules)
    }
  }
  walk(stats.modules)
  const packages = await Promise.all(
    [...folders].map(async (folder) => {
      const { name, version } = JSON.parse(
        await readFile(path.join(folder, 'package.json'), 'utf8')
      ) as { name: string; version: string }
      return `${name}@${version}`
    })
  )
  return [...new Set(packages)].sort()
}

/** The names (`name@version`) dist/licenses.txt lists, in its order: one `## name@version` heading each. */
export function listedPackages(licensesText: string): string[] {
  return [...licensesText.matchAll(/^## (\S+)$/gm)].map((match) => match[1])
}

function collectLicences(root: string): Promise<ModuleInfos> {
  return new Promise((resolve, reject) =>
    // Every installed package, not only production ones: `debug` bundles supports-color, a dev install
    init({ start: root, customPath: { licenseText: '' } }, (error, packages) =>
      error ? reject(error) : resolve(packages)
    )
  )
}

async function main(): Promise<void> {
  const [statsFile, outFile = 'dist/licenses.txt'] = process.argv.slice(2)
  if (!statsFile) throw new Error('Usage: tsx scripts/licenses.ts <ncc stats.json> [out file]')
  const bundled = await bundledPackages(statsFile)
  const licences = await collectLicences(process.cwd())
  const missing = bundled.filter((name) => !licences[name])
  if (missing.length > 0) {
    throw new Error(`No licence information for bundled packages: ${missing.join(', ')}`)
  }
  const sections = bundled.map((name) => {
    const { licenses, licenseText, repository } = licences[name] as ModuleInfos[string] & {
      licenseText?: string
    }
    const licence = Array.isArray(licenses) ? licenses.join(' OR ') : (licenses ?? 'UNKNOWN')
    return [
      `## ${name}`,
      `Licence: ${licence}${repository ? `\nRepository: ${repository}` : ''}`,
      '',
      licenseText?.trim() || `(no licence file in the package; its package.json says ${licence})`
    ].join('\n')
  })
  const header =
    `# Third-party software in dist/\n\nThe bundle contains these ${bundled.length} packages; ` +
    "each one's licence text follows its name. Written by `npm run build` (scripts/licenses.ts)."
  await writeFile(outFile, `${header}\n\n${sections.join('\n\n')}\n`)
  console.log(`${outFile}: ${bundled.length} bundled packages and their licences`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
