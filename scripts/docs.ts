// `npm run docs`: rewrites the README's inputs and outputs tables from action.yml, and its
// troubleshooting table from the failure catalogue, so they never drift (`--check` fails instead).
import { readFile, writeFile } from 'node:fs/promises'
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'
import { troubleshootingRows } from '../src/failures.js'

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

/** A cell whose `<placeholders>` show as text, not as HTML tags. */
const textCell = (text: string): string => cell(text).replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function troubleshootingTable(): string {
  const rows = troubleshootingRows().map((row) =>
    [row.title, row.recognisedBy, row.cause, row.fix].map(textCell).join(' | ')
  )
  return [
    '| Failure | Recognised by | Likely cause | Fix |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`)
  ].join('\n')
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
  [
    { marker: 'inputs', table: inputsTable(metadata) },
    { marker: 'outputs', table: outputsTable(metadata) },
    { marker: 'troubleshooting', table: troubleshootingTable() }
  ].reduce((text, { marker, table }) => replaceSection(text, marker, table), readme),
  { ...(await resolveConfig('README.md')), parser: 'markdown' }
)
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error(
      'README.md inputs/outputs/troubleshooting differ from action.yml or src/failures.ts: run `npm run docs`.'
    )
    process.exit(1)
  }
} else {
  await writeFile('README.md', updated)
}
