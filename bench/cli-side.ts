// The seed document's recipe, scripted with the real Azure CLI: `az resource create` for the managed
// private endpoint (as the how-to writes it) or `az rest` (the CLI at its best), then the approval,
// the linked service and the connection test through `az rest`, polling as a shell loop would.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { postgresGroupId } from '../src/private-link.js'
import { sslModeNumbers } from '../src/ssl-modes.js'
import {
  azureCli,
  azureCliLogin,
  type AzureCliResult,
  type RunningEmulator,
  type Scenario
} from '../emulator/index.js'
import { benchNames, type BenchPath } from './scenario.js'
import type { ProcessSpan } from './timeline.js'

export type EndpointCommand = 'az resource create' | 'az rest'

type Json = Record<string, unknown>

const dataFactoryApi = 'api-version=2018-06-01'
const postgresApi = 'api-version=2025-08-01'
/** A poll gives up after this long: a bound against a broken emulator, not an expectation. */
const pollTimeoutMs = 300_000

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function asObject(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {}
}

/** One shell script's worth of `az` commands, each a process of its own, with their spans recorded. */
class AzureCliScript {
  readonly spans: ProcessSpan[] = []
  private env: Record<string, string> = {}
  private readonly ids
  private bodyCount = 0

  constructor(
    private readonly emulator: RunningEmulator,
    private readonly scenario: Scenario,
    private readonly dir: string,
    private readonly pollIntervalMs: number
  ) {
    const n = benchNames
    const group = `/subscriptions/${n.subscriptionId}/resourceGroups/${n.resourceGroup}/providers`
    const factory = `${group}/Microsoft.DataFactory/factories/${n.factoryName}`
    const server = `${group}/Microsoft.DBforPostgreSQL/flexibleServers/${n.serverName}`
    this.ids = {
      factory,
      server,
      endpoint: `${factory}/managedVirtualNetworks/default/managedPrivateEndpoints/${n.endpointName}`,
      linkedService: `${factory}/linkedservices/${n.linkedServiceName}`,
      dataset: `${factory}/datasets/cli-probe-dataset`,
      pipeline: `${factory}/pipelines/cli-probe-pipeline`
    }
  }

  private async timed<T>(work: () => Promise<T>): Promise<T> {
    const startMs = Date.now()
    try {
      return await work()
    } finally {
      this.spans.push({ startMs, endMs: Date.now() })
    }
  }

  /** `az login --service-principal` (a CI job starts signed out, as the action does). */
  async login(): Promise<void> {
    this.env = await this.timed(() => azureCliLogin(this.emulator, this.dir))
  }

  private async az(args: string[]): Promise<AzureCliResult> {
    const result = await this.timed(() => azureCli(this.env, args))
    if (result.exitCode !== 0) {
      throw new Error(
        `az ${args.slice(0, 3).join(' ')} failed (${result.exitCode}): ${result.stderr.trim()}`
      )
    }
    return result
  }

  /** `az rest`; a body goes through a file, as a script keeps a password off the command line. */
  private async rest(method: string, url: string, body?: unknown, verbose = false) {
    const args = ['rest', '--method', method, '--url', url]
    if (body !== undefined) {
      const file = path.join(this.dir, `body-${++this.bodyCount}.json`)
      await writeFile(file, JSON.stringify(body), { mode: 0o600 })
      args.push('--body', `@${file}`)
    }
    const result = await this.az(verbose ? [...args, '--verbose'] : args)
    return {
      body: result.stdout.trim() ? (JSON.parse(result.stdout) as unknown) : undefined,
      stderr: result.stderr
    }
  }

  private get(url: string): Promise<Json> {
    return this.rest('get', url).then(({ body }) => asObject(body))
  }

  /** `until <read>; do sleep <interval>; done`, bounded in looks and time. */
  private async poll<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
    const maxLooks = Math.ceil(pollTimeoutMs / this.pollIntervalMs) + 1
    const deadline = Date.now() + pollTimeoutMs
    for (let look = 1; look <= maxLooks && Date.now() <= deadline; look++) {
      const value = await read()
      if (value !== undefined) return value
      await sleep(this.pollIntervalMs)
    }
    throw new Error(`az CLI recipe: gave up waiting for ${what}`)
  }

  private endpointProperties(): Promise<Json> {
    return this.get(`${this.ids.endpoint}?${dataFactoryApi}`).then((body) =>
      asObject(body.properties)
    )
  }

  /** The seed's command, which polls a Provisioning resource by itself; or a PUT and our own polling. */
  async createEndpoint(command: EndpointCommand): Promise<void> {
    const properties = { privateLinkResourceId: this.ids.server, groupId: postgresGroupId }
    if (command === 'az resource create') {
      await this.az([
        'resource',
        'create',
        '--id',
        this.ids.endpoint,
        '--properties',
        JSON.stringify(properties)
      ])
      return
    }
    await this.rest('put', `${this.ids.endpoint}?${dataFactoryApi}`, { properties })
    await this.poll('the endpoint to be Succeeded', async () =>
      (await this.endpointProperties()).provisioningState === 'Succeeded' ? true : undefined
    )
  }

  /** Our connection on the server: its private endpoint is named `<factory>.<endpoint>`. */
  private async ourConnection(): Promise<Json | undefined> {
    const list = await this.get(`${this.ids.server}/privateEndpointConnections?${postgresApi}`)
    const suffix = `/${benchNames.factoryName}.${benchNames.endpointName}`.toLowerCase()
    return (Array.isArray(list.value) ? list.value.map(asObject) : []).find((connection) =>
      String(asObject(asObject(connection.properties).privateEndpoint).id)
        .toLowerCase()
        .endsWith(suffix)
    )
  }

  /** Waits for the connection, approves it, follows the Azure-AsyncOperation, waits for Data Factory. */
  async approve(): Promise<void> {
    const connection = await this.poll('the connection to appear', () => this.ourConnection())
    const { stderr } = await this.rest(
      'put',
      `${this.ids.server}/privateEndpointConnections/${String(connection.name)}?${postgresApi}`,
      {
        properties: {
          privateLinkServiceConnectionState: {
            status: 'Approved',
            description: 'Approved by the az CLI recipe'
          }
        }
      },
      true
    )
    // `az rest` does not follow a long-running operation; `--verbose` prints the response headers.
    const operation = /'Azure-AsyncOperation': '([^']+)'/i.exec(stderr)?.[1]
    if (!operation) throw new Error('az rest: the approval answered no Azure-AsyncOperation header')
    const status = await this.poll('the approval operation', async () => {
      const current = String((await this.get(operation)).status)
      return current === 'InProgress' ? undefined : current
    })
    if (status !== 'Succeeded') throw new Error(`The approval operation ended ${status}`)
    await this.poll('Data Factory to see Approved', async () =>
      asObject((await this.endpointProperties()).connectionState).status === 'Approved'
        ? true
        : undefined
    )
  }

  async putLinkedService(): Promise<void> {
    const server = await this.get(`${this.ids.server}?${postgresApi}`)
    const role = this.scenario.servers[0].roles[0]
    await this.rest('put', `${this.ids.linkedService}?${dataFactoryApi}`, {
      properties: {
        type: 'AzurePostgreSql',
        version: '2.0',
        typeProperties: {
          server: asObject(server.properties).fullyQualifiedDomainName,
          port: 5432,
          database: benchNames.database,
          sslMode: sslModeNumbers.require,
          username: role.name,
          authenticationType: 'BasicAuth',
          password: { type: 'SecureString', value: role.password }
        },
        connectVia: {
          referenceName: benchNames.integrationRuntime,
          type: 'IntegrationRuntimeReference'
        }
      }
    })
  }

  /** The re-run's check, 4 reads: endpoint, connection, server (its FQDN) and linked service. */
  async check(): Promise<void> {
    const endpoint = await this.endpointProperties()
    const connection = await this.ourConnection()
    const server = await this.get(`${this.ids.server}?${postgresApi}`)
    const linkedService = await this.get(`${this.ids.linkedService}?${dataFactoryApi}`)
    const approved =
      endpoint.provisioningState === 'Succeeded' &&
      asObject(endpoint.connectionState).status === 'Approved' &&
      asObject(asObject(connection?.properties).privateLinkServiceConnectionState).status ===
        'Approved'
    const fqdn = asObject(server.properties).fullyQualifiedDomainName
    if (!approved || asObject(asObject(linkedService.properties).typeProperties).server !== fqdn) {
      throw new Error(
        'az CLI recipe: the re-run found something to do; the fresh apply did not finish'
      )
    }
  }

  /** A Lookup through the linked service in a temporary dataset and pipeline, removed afterwards. */
  async connectionTest(): Promise<void> {
    await this.rest('put', `${this.ids.dataset}?${dataFactoryApi}`, {
      properties: {
        type: 'AzurePostgreSqlTable',
        linkedServiceName: {
          referenceName: benchNames.linkedServiceName,
          type: 'LinkedServiceReference'
        }
      }
    })
    await this.rest('put', `${this.ids.pipeline}?${dataFactoryApi}`, {
      properties: {
        activities: [
          {
            name: 'LookupPostgreSql',
            type: 'Lookup',
            typeProperties: {
              source: { type: 'AzurePostgreSqlSource', query: benchNames.testQuery },
              dataset: { referenceName: 'cli-probe-dataset', type: 'DatasetReference' },
              firstRowOnly: true
            }
          }
        ]
      }
    })
    const { body } = await this.rest('post', `${this.ids.pipeline}/createRun?${dataFactoryApi}`)
    const runId = String(asObject(body).runId)
    const status = await this.poll('the pipeline run', async () => {
      const current = String(
        (await this.get(`${this.ids.factory}/pipelineruns/${runId}?${dataFactoryApi}`)).status
      )
      return ['Queued', 'InProgress'].includes(current) ? undefined : current
    })
    await this.rest('delete', `${this.ids.pipeline}?${dataFactoryApi}`)
    await this.rest('delete', `${this.ids.dataset}?${dataFactoryApi}`)
    if (status !== 'Succeeded')
      throw new Error(`The az CLI recipe's connection test ended ${status}`)
  }
}

/**
 * Runs the recipe for `benchPath` with fresh CLI configuration (signed out); answers each `az` process's
 * span in epoch ms. Throws when a command fails or a state never comes: a failed run measures nothing.
 */
export async function runAzureCliPath(
  emulator: RunningEmulator,
  scenario: Scenario,
  benchPath: BenchPath,
  pollIntervalMs: number,
  endpointCommand: EndpointCommand
): Promise<ProcessSpan[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'adf-pg-bench-az-'))
  try {
    const script = new AzureCliScript(emulator, scenario, dir, pollIntervalMs)
    await script.login()
    if (benchPath === 'fresh') {
      await script.createEndpoint(endpointCommand)
      await script.approve()
      await script.putLinkedService()
    } else {
      await script.check()
    }
    if (benchPath !== 'noop') await script.connectionTest()
    return script.spans
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
