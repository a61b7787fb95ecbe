// `npm run docs`: rewrites the README's inputs and outputs tables from action.yml, so the two never drift
// (`npm run docs -- --check` fails instead when they differ).
import { readFile, writeFile } from 'node:fs/promises'
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

interface ActionMetadata {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
}

const cell = (text: string): string => text.replace(/\s+/g, ' ').replace(/\|/g, '\\|').trim()

export function inputsTable(metadata: ActionMetadata): string {
  const rows = Object.entries(metadata.inputs).map(([name, input]) => {
    const fallback = input.default ? `\`${input.default}\`` : input.required ? '**required**' : ''
    return `| \`${name}\` | ${fallback} | ${cell(input.description)} |`
  })
  return ['| Input | Default | Description |', '| --- | --- | --- |', ...rows].join('\n')
}

export function outputsTable(metadata: ActionMetadata): string {
  const rows = Object.entries(metadata.outputs).map(
    ([name, output]) => `| \`${name}\` | ${cell(output.description)} |`
  )
  return ['| Output | Description |', '| --- | --- |', ...rows].join('\n')
}

function replaceSection(readme: string, marker: string, table: string): string {
  const pattern = new RegExp(`(<!-- ${marker}:start -->)[\\s\\S]*?(<!-- ${marker}:end -->)`)
  if (!pattern.test(readme))
    throw new Error(`README.md has no <!-- ${marker}:start/end --> markers`)
  return readme.replace(pattern, `$1\n${table}\n$2`)
}

const metadata = parse(await readFile('action.yml', 'utf8')) as ActionMetadata
const readme = await readFile('README.md', 'utf8')
// Formatted as `prettier --write` would, so the check and the formatter agree.
const updated = await format(
  replaceSection(
    replaceSection(readme, 'inputs', inputsTable(metadata)),
    'outputs',
    outputsTable(metadata)
  ),
  { ...(await resolveConfig('README.md')), parser: 'markdown' }
)
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md inputs/outputs differ from action.yml: run `npm run docs`.')
    process.exit(1)
  }
} else {
  await writeFile('README.md', updated)
}
