// The options every gateway call gets: the run's signal, or a clean-up's own bound.
import { describe, expect, it } from '@jest/globals'
import { cleanupOptions, requestOptions } from '../../src/steps/context.js'
import { fakeStepContext } from '../fixtures/step-context.js'

describe('requestOptions', () => {
  it("is the run's signal, so a cancelled or timed-out run stops its requests", () => {
    const run = new AbortController()
    const { context } = fakeStepContext({}, { signal: run.signal })
    const { abortSignal } = requestOptions(context)
    expect(abortSignal.aborted).toBe(false)
    run.abort()
    expect(abortSignal.aborted).toBe(true)
  })
})

describe('cleanupOptions', () => {
  it("ignores the run's cancel: a cancelled run still cleans up, within its grace", async () => {
    const run = new AbortController()
    run.abort()
    const { context } = fakeStepContext({}, { signal: run.signal })
    const { abortSignal } = cleanupOptions(context, 0)
    expect(abortSignal).not.toBe(context.waiter.signal)
    expect(abortSignal.aborted).toBe(false)
    // Its grace (0 ms here) then ends it.
    await new Promise<void>((resolve) => abortSignal.addEventListener('abort', () => resolve()))
    expect(abortSignal.aborted).toBe(true)
  })

  it("a healthy run's clean-up is not hurried by the grace meant for a cancelled one", async () => {
    const run = new AbortController()
    run.abort()
    const healthy = cleanupOptions(fakeStepContext({}).context, 0).abortSignal
    const hurried = cleanupOptions(
      fakeStepContext({}, { signal: run.signal }).context,
      0
    ).abortSignal
    await new Promise<void>((resolve) => hurried.addEventListener('abort', () => resolve()))
    expect(healthy.aborted).toBe(false)
  })
})
