// The reusable workflow (.github/workflows/private-link.yml): its interface matches action.yml, its
// header example is a valid call, and a call's inputs, built as the runner builds them, run the bundle.
import { describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { repositoryRoot } from '../runner/index.js'
import {
  callReusableWorkflow,
  evaluateExpression,
  readReusableWorkflow
} from '../runner/workflow.js'
import {
  canaries,
  declaredOutputs,
  e2eScenario,
  expectOnlyOurEndpointApproved,
  ids,
  scenarioTimeoutMs,
  useEmulator
} from './harness.js'

interface ActionMetadata {
  inputs: Record<string, { required?: boolean; default?: string }>
}
const action = parse(
  readFileSync(path.join(repositoryRoot, 'action.yml'), 'utf8')
) as ActionMetadata
const workflow = readReusableWorkflow()
/** Action inputs that are secrets: declared as the workflow's `secrets:`, never as inputs. */
const secretInputs = ['password', 'client-secret', 'github-token']
/** GitHub's limit on a workflow_dispatch form. */
const dispatchInputLimit = 25

/** The repository variables a caller sets once for OIDC sign-in. */
const vars = {
  AZURE_CLIENT_ID: ids.clientId,
  AZURE_TENANT_ID: ids.tenantId,
  AZURE_SUBSCRIPTION_ID: ids.subscriptionId
}

const session = useEmulator(e2eScenario())

describe('the reusable workflow', () => {
  test('offers every action input (secrets as secrets) and passes each one to the action', () => {
    const actionStep = workflow.job.steps.find((step) => step.uses?.startsWith('./'))
    for (const name of Object.keys(action.inputs)) {
      if (secretInputs.includes(name)) expect(workflow.callSecrets).toHaveProperty([name])
      else expect(workflow.callInputs).toHaveProperty([name])
      expect(actionStep?.with).toHaveProperty([name])
    }
  })

  test('returns every output of the action', () => {
    for (const name of declaredOutputs()) {
      expect(workflow.callOutputs[name]?.value).toBe(`\${{ jobs.private-link.outputs.${name} }}`)
      expect(workflow.job.outputs[name]).toBe(`\${{ steps.link.outputs.${name} }}`)
    }
  })

  test("the dispatch form fits GitHub's limit and asks only for inputs a call also takes", () => {
    const names = Object.keys(workflow.dispatchInputs)
    expect(names.length).toBeLessThanOrEqual(dispatchInputLimit)
    for (const name of names) expect(workflow.callInputs).toHaveProperty([name])
  })

  test('an unknown or missing input is refused as GitHub refuses it', () => {
    const { problems } = callReusableWorkflow(workflow, {
      with: { 'factory-name': ids.factoryName, 'server-nmae': ids.serverName }
    })
    expect(problems).toEqual(
      expect.arrayContaining([`unknown input 'server-nmae'`, `input 'resource-group' is required`])
    )
  })

  test('without job.workflow_repository (GitHub Enterprise Server) the job stops with the fix', () => {
    const guard = workflow.job.steps.find((step) => step.if?.includes('job.workflow_repository'))
    const context = { job: { workflow_repository: '' } }
    expect(evaluateExpression(String(guard?.if), context)).toBe('true')
    expect(
      evaluateExpression(String(guard?.if), { job: { workflow_repository: 'octo-org/x' } })
    ).toBe('false')
    expect(guard?.run).toMatch(/::error[^\n]*job\.workflow_repository[^\n]*uses: /)
    expect(guard?.run).toContain('exit 1')
  })

  test(
    "the header's example call is valid and connects the factory",
    async () => {
      const example = workflow.headerExample
      expect(example.uses).toMatch(/\/\.github\/workflows\/private-link\.yml@/)
      // The caller's secret holds the role's password; the emulator's endpoints and test-scale
      // polling are the only additions, and they go through the workflow's own inputs too.
      const call = callReusableWorkflow(
        workflow,
        {
          with: {
            ...example.with,
            'resource-manager-endpoint': session.emulator.url,
            'authority-host': session.emulator.url,
            'poll-interval': '200ms'
          },
          secrets: example.secrets
        },
        vars,
        { PG_ADF_PASSWORD: canaries.password }
      )
      expect(call.problems).toEqual([])
      expect(call.inputs).toMatchObject({
        'client-id': ids.clientId,
        'tenant-id': ids.tenantId,
        'subscription-id': ids.subscriptionId,
        password: canaries.password,
        'test-connection': 'true',
        force: 'false'
      })
      const run = await session.run(call.inputs)
      expect(run.errors).toEqual([])
      expect(run.exitCode).toBe(0)
      expect(run.outputs['connection-test']).toBe('succeeded')
      expectOnlyOurEndpointApproved(session.state())
    },
    scenarioTimeoutMs
  )

  test(
    "the dispatch form's defaults make a plan that writes nothing",
    async () => {
      const form = Object.fromEntries(
        Object.entries(workflow.dispatchInputs).map(([name, input]) => [name, input.default ?? ''])
      )
      const call = callReusableWorkflow(
        workflow,
        {
          with: {
            ...form,
            'resource-group': ids.resourceGroup,
            'factory-name': ids.factoryName,
            'server-name': ids.serverName,
            database: ids.database,
            username: ids.serverRole,
            'resource-manager-endpoint': session.emulator.url,
            'authority-host': session.emulator.url
          },
          secrets: { password: canaries.password }
        },
        vars
      )
      expect(call.problems).toEqual([])
      expect(call.inputs.mode).toBe('plan')
      const run = await session.run(call.inputs)
      expect(run.exitCode).toBe(0)
      expect(
        run.requests.filter(
          (entry) => entry.method !== 'GET' && entry.path.startsWith('/subscriptions/')
        )
      ).toEqual([])
    },
    scenarioTimeoutMs
  )
})
