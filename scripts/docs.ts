// `npm run docs`: rewrites the README's inputs and outputs tables from action.yml, and
// docs/troubleshooting.md's table from the failure catalogue, so they never drift (`--check` fails instead).
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

function replaceSection(file: string, text: string, marker: string, table: string): string {
  const pattern = new RegExp(`(<!-- ${marker}:start -->)[\\s\\S]*?(<!-- ${marker}:end -->)`)
  if (!pattern.test(text)) throw new Error(`${file} has no <!-- ${marker}:start/end --> markers`)
  return text.replace(pattern, `$1\n${table}\n$2`)
}

const metadata = parse(await readFile('action.yml', 'utf8')) as ActionMetadata
const generated = [
  { file: 'README.md', marker: 'inputs', table: inputsTable(metadata) },
  { file: 'README.md', marker: 'outputs', table: outputsTable(metadata) },
  { file: 'docs/troubleshooting.md', marker: 'troubleshooting', table: troubleshootingTable() }
]
const stale: string[] = []
for (const file of [...new Set(generated.map((section) => section.file))]) {
  const text = await readFile(file, 'utf8')
  // Formatted as `prettier --write` would, so the check and the formatter agree.
  const updated = await format(
    generated
      .filter((section) => section.file === file)
      .reduce((current, { marker, table }) => replaceSection(file, current, marker, table), text),
    { ...(await resolveConfig(file)), parser: 'markdown' }
  )
  if (updated === text) continue
  if (process.argv.includes('--check')) stale.push(file)
  else await writeFile(file, updated)
}
if (stale.length > 0) {
  console.error(
    `${stale.join(' and ')}: the generated tables differ from action.yml or src/failures.ts: run \`npm run docs\`.`
  )
  process.exit(1)
}
