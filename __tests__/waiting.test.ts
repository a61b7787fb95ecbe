import { describe, expect, it } from '@jest/globals'
import { CancelledError } from '../src/errors.js'
import { Waiter, WaitTimeoutError, type Clock, type Poll } from '../src/waiting.js'

/** A clock whose sleeps only advance time, recording each pause. */
function fakeClock(): Clock & { pauses: number[] } {
  let now = 0
  const pauses: number[] = []
  return {
    pauses,
    now: () => now,
    sleep: async (ms, signal, during) => {
      if (signal.aborted) throw new CancelledError(during)
      pauses.push(ms)
      now += ms
    }
  }
}

const quiet = { info: () => undefined, warning: () => undefined, debug: () => undefined }
const request = {
  what: 'the thing',
  timeoutMs: 60_000,
  timeoutInput: 'approval-timeout',
  hint: 'Do this.'
}

function waiter(
  clock: Clock,
  options: { pollIntervalMs?: number; stepDeadline?: number; signal?: AbortSignal } = {}
) {
  return new Waiter({
    pollIntervalMs: options.pollIntervalMs ?? 10_000,
    stepDeadline: options.stepDeadline ?? Number.MAX_SAFE_INTEGER,
    signal: options.signal ?? new AbortController().signal,
    log: quiet,
    clock
  })
}

function doneAfter(looks: number): () => Promise<Poll<string>> {
  let count = 0
  return async () =>
    ++count >= looks ? { done: true, value: 'ready' } : { done: false, status: `look ${count}` }
}

describe('Waiter', () => {
  it('starts short and doubles the pause up to poll-interval', async () => {
    const clock = fakeClock()
    await expect(
      waiter(clock, { pollIntervalMs: 5_000 }).until(request, doneAfter(7))
    ).resolves.toBe('ready')
    expect(clock.pauses).toEqual([500, 1000, 2000, 4000, 5000, 5000])
  })

  it('returns at once without pausing when already done', async () => {
    const clock = fakeClock()
    await waiter(clock).until(request, doneAfter(1))
    expect(clock.pauses).toEqual([])
  })

  it('times out at its own limit, naming what, how long, the input and the hint', async () => {
    const clock = fakeClock()
    const failure = waiter(clock).until(request, async () => ({ done: false, status: 'Pending' }))
    await expect(failure).rejects.toThrow(WaitTimeoutError)
    await expect(failure).rejects.toThrow(
      "Timed out after 1m waiting for the thing (limit: 'approval-timeout' (1m); last seen: Pending)."
    )
    await expect(failure).rejects.toMatchObject({ hint: 'Do this.' })
    expect(clock.now()).toBe(60_000)
  })

  it("stops at the whole step's deadline when it comes first", async () => {
    const clock = fakeClock()
    const failure = waiter(clock, { stepDeadline: 3_000 }).until(request, async () => ({
      done: false,
      status: 'x'
    }))
    await expect(failure).rejects.toThrow(/limit: the step's 'timeout'/)
    expect(clock.now()).toBe(3_000)
  })

  it('is bounded in count even with a deadline far away', async () => {
    const clock = fakeClock()
    let looks = 0
    const failure = waiter(clock, { pollIntervalMs: 1 }).until(
      { ...request, timeoutMs: Number.MAX_SAFE_INTEGER },
      async () => ({ done: false, status: String(++looks) })
    )
    await expect(failure).rejects.toThrow(WaitTimeoutError)
    expect(looks).toBe(10_000)
  })

  it('stops with CancelledError when the run is cancelled', async () => {
    const controller = new AbortController()
    let looks = 0
    const failure = waiter(fakeClock(), { signal: controller.signal }).until(request, async () => {
      if (++looks === 2) controller.abort()
      return { done: false, status: 'Pending' }
    })
    await expect(failure).rejects.toThrow(new CancelledError('waiting for the thing'))
    expect(looks).toBe(2)
  })

  it('really sleeps and wakes on abort with the system clock', async () => {
    const controller = new AbortController()
    const real = new Waiter({
      pollIntervalMs: 60_000,
      stepDeadline: Date.now() + 60_000,
      signal: controller.signal,
      log: quiet
    })
    setTimeout(() => controller.abort(), 20)
    const started = Date.now()
    await expect(real.until(request, async () => ({ done: false, status: 'x' }))).rejects.toThrow(
      CancelledError
    )
    expect(Date.now() - started).toBeLessThan(400)
  })

  it('speaks during a long poll-interval: state changes, a heartbeat every 30 s, and when done', async () => {
    const clock = fakeClock()
    const lines: string[] = []
    const log = { ...quiet, info: (line: string) => void lines.push(`${clock.now()} ${line}`) }
    const statuses: Record<number, string> = { 0: 'Provisioning', 500: 'Pending' }
    const waiterWithLog = new Waiter({
      pollIntervalMs: 120_000,
      stepDeadline: Number.MAX_SAFE_INTEGER,
      signal: new AbortController().signal,
      log,
      clock
    })
    const value = await waiterWithLog.until({ ...request, timeoutMs: 300_000 }, async () =>
      clock.now() >= 60_000
        ? { done: true, value: 'ready' }
        : { done: false, status: statuses[clock.now()] ?? 'Pending' }
    )
    expect(value).toBe('ready')
    // Looks at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 and 63.5 s; 30 s of silence brings a heartbeat.
    expect(lines).toEqual([
      '0 Waiting for the thing: Provisioning',
      '500 Waiting for the thing: Provisioning → Pending (after 500ms)',
      "30500 Still waiting for the thing: Pending (31s elapsed, limit 'approval-timeout' (5m))",
      "60500 Still waiting for the thing: Pending (1m 1s elapsed, limit 'approval-timeout' (5m))",
      '63500 Done waiting for the thing after 1m 4s.'
    ])
    expect(clock.pauses).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 1000, 29_000, 3000])
  })

  it('says nothing extra when the wait ends at its first look', async () => {
    const lines: string[] = []
    const log = { ...quiet, info: (line: string) => void lines.push(line) }
    const clock = fakeClock()
    await new Waiter({
      pollIntervalMs: 1000,
      stepDeadline: Number.MAX_SAFE_INTEGER,
      signal: new AbortController().signal,
      log,
      clock
    }).until(request, doneAfter(1))
    expect(lines).toEqual([])
  })
})
