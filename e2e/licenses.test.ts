// dist/licenses.txt names every package the bundle contains, with its licence text: the list is
// compared with a fresh build's own module stats and with the module paths left in dist/index.js.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { bundledPackages, listedPackages, packageFolderOf } from '../scripts/licenses.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const buildTimeoutMs = 180_000
let buildDir: string
let freshBuild: string[]
const licensesText = readFileSync(path.join(root, 'dist', 'licenses.txt'), 'utf8')
const listed = listedPackages(licensesText)

beforeAll(async () => {
  buildDir = await mkdtemp(path.join(os.tmpdir(), 'licenses-build-'))
  const stats = path.join(buildDir, 'stats.json')
  await promisify(execFile)(
    path.join(root, 'node_modules', '.bin', 'ncc'),
    ['build', 'src/index.ts', '-o', path.join(buildDir, 'dist'), '--stats-out', stats],
    { cwd: root, timeout: buildTimeoutMs }
  )
  freshBuild = await bundledPackages(stats)
}, buildTimeoutMs)

afterAll(async () => {
  await rm(buildDir, { recursive: true, force: true })
})

describe('dist/licenses.txt', () => {
  test('lists exactly the packages a fresh build of src/ bundles', () => {
    expect(freshBuild).toEqual(
      expect.arrayContaining(['@actions/core', '@azure/identity'].map(expect.stringContaining))
    )
    expect(listed).toEqual(freshBuild)
  })

  test('names every package whose module path the committed bundle still carries', async () => {
    const bundle = await readFile(path.join(root, 'dist', 'index.js'), 'utf8')
    const named = new Set(
      [...bundle.matchAll(/CONCATENATED MODULE: (\.\/node_modules\/\S+)/g)].map((match) => {
        const folder = packageFolderOf(match[1]) ?? match[1]
        return folder.slice(folder.lastIndexOf('node_modules/') + 'node_modules/'.length)
      })
    )
    expect(named.size).toBeGreaterThan(10)
    const listedNames = new Set(listed.map((entry) => entry.slice(0, entry.lastIndexOf('@'))))
    expect([...named].filter((name) => !listedNames.has(name))).toEqual([])
  })

  test('gives each package its licence and a licence text', () => {
    const sections = licensesText.split(/^## /m).slice(1)
    expect(sections.length).toBeGreaterThan(10)
    expect(sections).toHaveLength(listed.length)
    for (const section of sections) {
      const [heading, licence, ...text] = section.split('\n')
      expect({ heading, licence }).toEqual({
        heading,
        licence: expect.stringMatching(/^Licence: \S/)
      })
      expect({ heading, text: text.join('\n').trim().length > 100 }).toEqual({
        heading,
        text: true
      })
    }
  })
})

test('packageFolderOf: the installed package a file belongs to, nested installs included', () => {
  expect(
    packageFolderOf('/r/node_modules/@azure/msal-node/node_modules/@azure/msal-common/dist/x.mjs')
  ).toBe('/r/node_modules/@azure/msal-node/node_modules/@azure/msal-common')
  expect(packageFolderOf('./node_modules/tunnel/lib/tunnel.js')).toBe('./node_modules/tunnel')
  expect(packageFolderOf('/r/src/main.ts')).toBeUndefined()
})
