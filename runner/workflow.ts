// What a runner does with a call of the reusable workflow: checks the caller's `with:` and `secrets:`
// against the declared interface, then evaluates the action step's `with:` expressions (GitHub's own
// expression evaluator) into the action's inputs — so a renamed input breaks the tests that use it.
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { repositoryRoot } from './index.js'

export const reusableWorkflowFile = path.join(
  repositoryRoot,
  '.github',
  'workflows',
  'private-link.yml'
)

type Scalar = string | boolean | number

export interface WorkflowInput {
  type: 'string' | 'boolean' | 'number' | 'choice' | 'environment'
  required?: boolean
  default?: Scalar
  options?: string[]
}

export interface ReusableWorkflow {
  callInputs: Record<string, WorkflowInput>
  callSecrets: Record<string, { required?: boolean }>
  callOutputs: Record<string, { value: string }>
  dispatchInputs: Record<string, WorkflowInput>
  job: {
    outputs: Record<string, string>
    steps: {
      id?: string
      if?: string
      uses?: string
      run?: string
      with?: Record<string, Scalar>
    }[]
  }
  /** The call shown in the file's header comment, parsed as YAML. */
  headerExample: { uses: string; with?: Record<string, Scalar>; secrets?: Record<string, string> }
}

/** The workflow file, typed as far as the tests read it. */
export function readReusableWorkflow(file = reusableWorkflowFile): ReusableWorkflow {
  const text = readFileSync(file, 'utf8')
  const workflow = parse(text) as {
    on: {
      workflow_call: {
        inputs: Record<string, WorkflowInput>
        secrets: Record<string, { required?: boolean }>
        outputs: Record<string, { value: string }>
      }
      workflow_dispatch: { inputs: Record<string, WorkflowInput> }
    }
    jobs: Record<string, ReusableWorkflow['job']>
  }
  // The header's example job: the comment lines from `jobs:` to the first blank comment line.
  const comments = text.split('\n').filter((line) => line.startsWith('#'))
  const start = comments.findIndex((line) => /^#\s+jobs:/.test(line))
  const end = comments.findIndex((line, index) => index > start && /^#\s*$/.test(line))
  const example = parse(
    comments
      .slice(start, end)
      .map((line) => line.slice(1))
      .join('\n')
  ) as { jobs: Record<string, ReusableWorkflow['headerExample']> }
  const [job] = Object.values(workflow.jobs)
  return {
    callInputs: workflow.on.workflow_call.inputs,
    callSecrets: workflow.on.workflow_call.secrets,
    callOutputs: workflow.on.workflow_call.outputs,
    dispatchInputs: workflow.on.workflow_dispatch.inputs,
    job,
    headerExample: Object.values(example.jobs)[0]
  }
}

function toData(value: unknown): data.ExpressionData {
  if (value === undefined || value === null) return new data.Null()
  if (typeof value === 'boolean') return new data.BooleanData(value)
  if (typeof value === 'number') return new data.NumberData(value)
  if (typeof value === 'string') return new data.StringData(value)
  return new data.Dictionary(
    ...Object.entries(value as Record<string, unknown>).map(([key, inner]) => ({
      key,
      value: toData(inner)
    }))
  )
}

export type ExpressionContext = Record<string, Record<string, Scalar | undefined>>

/** Evaluates one `${{ … }}` expression. */
export function evaluateExpression(expression: string, context: ExpressionContext): unknown {
  const tokens = new Lexer(expression).lex().tokens
  const ast = new Parser(tokens, Object.keys(context), []).parse()
  const result = new Evaluator(ast, toData(context) as data.Dictionary).evaluate()
  return result.kind === data.Kind.Null ? '' : result.coerceString()
}

/** A `with:` value as the runner passes it: each `${{ … }}` replaced by its value as text. */
export function interpolate(value: Scalar, context: ExpressionContext): string {
  return String(value).replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) =>
    String(evaluateExpression(expression.trim(), context))
  )
}

export interface WorkflowCall {
  with?: Record<string, Scalar>
  /** Declared secrets by name, or `inherit` (the caller's secrets as they are). */
  secrets?: Record<string, string> | 'inherit'
}

export interface CallResult {
  /** Problems GitHub would refuse the call for (unknown or missing inputs and secrets, wrong types). */
  problems: string[]
  /** The action's inputs, as the step's `with:` evaluates to. */
  inputs: Record<string, string>
}

/**
 * Checks a call against the workflow's interface and evaluates the action step's inputs.
 * `vars` and `callerSecrets` stand for the caller repository's variables and secrets, `jobToken`
 * for the job's GITHUB_TOKEN (`github.token`).
 */
export function callReusableWorkflow(
  workflow: ReusableWorkflow,
  call: WorkflowCall,
  vars: Record<string, string> = {},
  callerSecrets: Record<string, string> = {},
  jobToken = ''
): CallResult {
  const problems: string[] = []
  // The caller's own expressions (`${{ secrets.X }}`) are evaluated in the caller's context first.
  const caller: ExpressionContext = { vars, secrets: callerSecrets }
  const given = Object.fromEntries(
    Object.entries(call.with ?? {}).map(([name, value]) => [
      name,
      typeof value === 'string' ? interpolate(value, caller) : value
    ])
  )
  const inputs: Record<string, Scalar | undefined> = {}
  for (const name of Object.keys(given)) {
    if (!(name in workflow.callInputs)) problems.push(`unknown input '${name}'`)
  }
  for (const [name, declared] of Object.entries(workflow.callInputs)) {
    const value = given[name] ?? declared.default
    if (value === undefined && declared.required) problems.push(`input '${name}' is required`)
    if (value !== undefined && declared.type !== 'string' && typeof value !== declared.type) {
      problems.push(`input '${name}' must be a ${declared.type}`)
    }
    inputs[name] = value
  }
  const secrets: Record<string, string> = {}
  if (call.secrets === 'inherit') Object.assign(secrets, callerSecrets)
  else {
    for (const [name, value] of Object.entries(call.secrets ?? {})) {
      if (!(name in workflow.callSecrets)) problems.push(`unknown secret '${name}'`)
      secrets[name] = interpolate(value, caller)
    }
  }
  const context: ExpressionContext = { inputs, vars, secrets, github: { token: jobToken } }
  const step = workflow.job.steps.find((candidate) => candidate.uses?.startsWith('./'))
  if (!step?.with) return { problems: [...problems, 'no step uses the action'], inputs: {} }
  const actionInputs = Object.fromEntries(
    Object.entries(step.with).map(([name, value]) => [name, interpolate(value, context)])
  )
  return { problems, inputs: actionInputs }
}
