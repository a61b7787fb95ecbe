import { describe, expect, it, jest } from '@jest/globals'
import type { ActionIO } from '../src/io.js'

/** Which phase index.ts ran, and with which io, when the runner's state says `isPost`. */
async function phaseRun(isPost: string): Promise<string[]> {
  jest.resetModules()
  const ran: string[] = []
  const io = { state: { get: (name: string) => (name === 'isPost' ? isPost : '') } }
  const record = (phase: string) => async (given: ActionIO) => {
    ran.push(given === (io as unknown) ? phase : `${phase} with another io`)
  }
  jest.unstable_mockModule('../src/io.js', () => ({ createActionIO: () => io }))
  jest.unstable_mockModule('../src/main.js', () => ({ run: record('main') }))
  jest.unstable_mockModule('../src/post.js', () => ({ runPost: record('post') }))
  await import('../src/index.js')
  return ran
}

describe('index', () => {
  it('runs main when no phase saved isPost, with the io it made', async () => {
    expect(await phaseRun('')).toEqual(['main'])
  })

  it('runs post when main saved isPost (one bundle for both phases)', async () => {
    expect(await phaseRun('true')).toEqual(['post'])
  })
})
