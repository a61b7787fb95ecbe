// Runs the real Azure CLI against the emulator: a registered cloud whose Active Directory is the
// emulator's ADFS authority (no instance discovery), and the emulator's CA as the only trusted root.
import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { PrincipalSeed } from './types.js'

const emulatorCloudName = 'AdfPgEmulator'

export interface AzureCliTarget {
  url: string
  caFile: string
  tenantId: string
  principals: PrincipalSeed[]
}

export interface AzureCliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Writes an Azure CLI configuration folder for the emulator's cloud; answers the environment `az` needs. */
async function azureCliEnvironment(
  emulator: AzureCliTarget,
  dir: string
): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true })
  const endpoints = {
    management: `${emulator.url}/`,
    resource_manager: `${emulator.url}/`,
    active_directory: `${emulator.url}/adfs`,
    active_directory_resource_id: `${emulator.url}/`,
    active_directory_graph_resource_id: `${emulator.url}/`,
    microsoft_graph_resource_id: `${emulator.url}/`
  }
  const cloud = Object.entries(endpoints).map(([name, value]) => `endpoint_${name} = ${value}`)
  await writeFile(
    path.join(dir, 'clouds.config'),
    [`[${emulatorCloudName}]`, ...cloud, ''].join('\n')
  )
  const config = [
    '[cloud]',
    `name = ${emulatorCloudName}`,
    '[core]',
    'collect_telemetry = no',
    'first_run = no',
    'output = json',
    'no_color = yes',
    '[extension]',
    'use_dynamic_install = no',
    ''
  ]
  await writeFile(path.join(dir, 'config'), config.join('\n'))
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    AZURE_CONFIG_DIR: dir,
    REQUESTS_CA_BUNDLE: emulator.caFile,
    AZURE_CORE_COLLECT_TELEMETRY: 'no',
    AZURE_CORE_SURVEY_MESSAGE: 'no'
  }
}

/** Runs `az` with the given environment; never throws on a failing command (the exit code tells). */
export function azureCli(
  env: Record<string, string>,
  args: string[],
  timeoutMs = 120_000
): Promise<AzureCliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'az',
      args,
      { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error)
        else resolve({ exitCode: typeof error?.code === 'number' ? error.code : 0, stdout, stderr })
      }
    )
  })
}

/** Configures `dir` and signs in a service principal with its secret, as `az login --service-principal` does. */
export async function azureCliLogin(
  emulator: AzureCliTarget,
  dir: string,
  principal: PrincipalSeed = emulator.principals[0]
): Promise<Record<string, string>> {
  if (!principal.clientSecret)
    throw new Error(`${principal.displayName} has no client secret to sign in with`)
  const env = await azureCliEnvironment(emulator, dir)
  const login = await azureCli(env, [
    'login',
    '--service-principal',
    '--username',
    principal.clientId,
    `--password=${principal.clientSecret}`,
    // A GUID: the CLI resolves any other tenant through `<authority>/<tenant>/.well-known/…`.
    '--tenant',
    emulator.tenantId
  ])
  if (login.exitCode !== 0)
    throw new Error(`az login failed (${login.exitCode}): ${login.stderr.trim()}`)
  return env
}

/** Why `az` cannot run here (not on PATH, or broken), or undefined when `az version` answers. */
export async function azureCliMissing(): Promise<string | undefined> {
  try {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }
    const version = await azureCli(env, ['version'], 60_000)
    return version.exitCode === 0 ? undefined : `\`az version\` exited ${version.exitCode}`
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
      ? '`az` is not on PATH (apt-get install azure-cli)'
      : `\`az version\` failed: ${String(error)}`
  }
}
