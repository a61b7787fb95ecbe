import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { loadRecording, recordingFiles } from '../contract/recordings.js'
import { cloudNames, clouds } from '../src/clouds.js'

const actionYml = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>
}

describe('clouds', () => {
  it("keys each row by its own name, and action.yml's environment lists exactly these", () => {
    for (const name of cloudNames) expect(clouds[name].name).toBe(name)
    expect(actionYml.inputs.environment.description).toContain(cloudNames.join(' | '))
    expect(cloudNames).toContain(actionYml.inputs.environment.default)
  })

  it('gives https endpoints without a trailing slash, distinct per cloud', () => {
    for (const cloud of Object.values(clouds)) {
      for (const endpoint of [cloud.resourceManagerEndpoint, cloud.authorityHost]) {
        expect(endpoint).toMatch(/^https:\/\/[a-z0-9.-]+[a-z]$/)
      }
    }
    const distinct = (pick: (cloud: (typeof clouds)['AzureCloud']) => string) =>
      new Set(Object.values(clouds).map(pick)).size
    expect(distinct((cloud) => cloud.resourceManagerEndpoint)).toBe(cloudNames.length)
    expect(distinct((cloud) => cloud.oidcAudience)).toBe(cloudNames.length)
    expect(distinct((cloud) => cloud.postgresHostSuffix)).toBe(cloudNames.length)
  })

  it("holds the public cloud's Resource Manager endpoint: the host of every live recording", () => {
    const hosts = new Set(
      recordingFiles().map((file) => new URL(loadRecording(file).request.uri).origin)
    )
    expect([...hosts]).toEqual([clouds.AzureCloud.resourceManagerEndpoint])
  })

  it("names Data Factory's cloud types as its linked service model spells them", () => {
    expect(cloudNames.map((name) => clouds[name].dataFactoryCloudType)).toEqual([
      'AzurePublic',
      'AzureUsGovernment',
      'AzureChina'
    ])
    expect(clouds.AzureCloud.oidcAudience).toBe('api://AzureADTokenExchange')
  })
})
