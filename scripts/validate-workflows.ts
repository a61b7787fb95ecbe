// `npm test` step: action.yml and every workflow, checked with GitHub's own parser (@actions/workflow-parser,
// from actions/languageservices), which knows `node24`, `vars`, `job.workflow_*` and the dispatch limits.
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  NoOperationTraceWriter,
  convertWorkflowTemplate,
  parseWorkflow
} from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const trace = new NoOperationTraceWriter()

function file(name: string) {
  return { name, content: readFileSync(path.join(root, name), 'utf8') }
}

const problems: string[] = []
const action = parseAction(file('action.yml'), trace)
for (const error of action.context.errors.getErrors()) problems.push(`action.yml: ${error.message}`)

// The examples README points to are workflows for users to copy: checked the same way.
const workflows = [path.join('.github', 'workflows'), 'examples'].flatMap((dir) =>
  readdirSync(path.join(root, dir))
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(dir, name))
)
for (const name of workflows) {
  const parsed = parseWorkflow(file(name), trace)
  if (parsed.value) await convertWorkflowTemplate(parsed.context, parsed.value)
  for (const error of parsed.context.errors.getErrors()) problems.push(`${name}: ${error.message}`)
}

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`action.yml and ${workflows.length} workflows are valid.`)
