import { describe, expect, it } from '@jest/globals'
import { runPost } from '../src/post.js'
import { probeStateName } from '../src/steps/probes.js'
import { fakeIO, validInputs } from './fixtures/inputs.js'

describe('runPost', () => {
  it('does nothing, not even reading the inputs, when main left no probe', async () => {
    const io = fakeIO({})
    const inputsRead: string[] = []
    io.inputs = {
      get: (name) => {
        inputsRead.push(name)
        return ''
      }
    }
    await runPost(io)
    expect(inputsRead).toEqual([])
    expect(io.written.logs).toEqual([])
    expect(io.written.failed).toBeUndefined()
  })

  it('never fails the job: a clean-up problem warns, naming what to delete by hand', async () => {
    const dataset = 'adf-pg-private-link-probe-20261130T172005Z-1-1-aaaaaa-dataset'
    const io = fakeIO(
      { ...validInputs, 'factory-name': 'x' },
      { [probeStateName]: JSON.stringify({ datasets: [dataset] }) }
    )
    await runPost(io)
    expect(io.written.failed).toBeUndefined()
    expect(io.written.logs).toEqual([
      expect.stringMatching(
        new RegExp(`^warning: [\\s\\S]*Delete them by hand in factory 'x': ${dataset}\\.$`)
      )
    ])
    expect(io.written.logs.join('\n')).not.toContain(validInputs.password)
  })
})
