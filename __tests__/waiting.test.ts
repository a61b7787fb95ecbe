import { describe, expect, it } from '@jest/globals'
import { CancelledError } from '../src/errors.js'
import {
  nextPauseMs,
  quickPaceCapMs,
  quickPhaseMs,
  retryAfterMs,
  Waiter,
  WaitTimeoutError,
  type Clock,
  type Poll
} from '../src/waiting.js'

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
  it('polls at half poll-interval for the first minute, then at poll-interval', async () => {
    const clock = fakeClock()
    await expect(
      waiter(clock, { pollIntervalMs: 8_000 }).until(
        { ...request, timeoutMs: 600_000 },
        doneAfter(18)
      )
    ).resolves.toBe('ready')
    // Looks at 0, 4, 8 … 60 s, then 68 and 76 s.
    expect(clock.pauses).toEqual([...Array<number>(15).fill(4_000), 8_000, 8_000])
  })

  it('notices a change P/4 late on average and never later than P/2 during the first minute', async () => {
    const pollIntervalMs = 2_000
    const delays: number[] = []
    // Changes at every 100 ms from 0.1 s to 50 s: the notice delay is the first look at or after it.
    for (let changeAt = 100; changeAt <= 50_000; changeAt += 100) {
      const clock = fakeClock()
      await waiter(clock, { pollIntervalMs }).until(request, async () =>
        clock.now() >= changeAt ? { done: true, value: 'x' } : { done: false, status: 'x' }
      )
      delays.push(clock.now() - changeAt)
    }
    const average = delays.reduce((sum, delay) => sum + delay, 0) / delays.length
    expect(average).toBeLessThanOrEqual(pollIntervalMs / 4)
    expect(Math.max(...delays)).toBeLessThanOrEqual(pollIntervalMs / 2)
  })

  it('the schedule: P/2 (at most 5 s) while the wait is younger than a minute, P after', () => {
    expect(nextPauseMs(2_000, 0)).toBe(1_000)
    expect(nextPauseMs(10_000, quickPhaseMs - 1)).toBe(5_000)
    expect(nextPauseMs(10_000, quickPhaseMs)).toBe(10_000)
    // A long poll-interval still sees a quick change within seconds, then costs one look per P.
    expect(nextPauseMs(120_000, 0)).toBe(quickPaceCapMs)
    expect(nextPauseMs(120_000, quickPhaseMs)).toBe(120_000)
  })

  it("skips the first look when the caller just looked, pausing Azure's Retry-After if given", async () => {
    const clock = fakeClock()
    let looks = 0
    const probe = async (): Promise<Poll<string>> =>
      ++looks === 2
        ? { done: true, value: 'ready' }
        : { done: false, status: 'Running', retryAfterMs: 7_000 }
    await waiter(clock, { pollIntervalMs: 2_000 }).until(
      { ...request, justLooked: true, retryAfterMs: 3_000 },
      probe
    )
    // The 202's Retry-After (3 s), the first look's (7 s), then done at the second look.
    expect(clock.pauses).toEqual([3_000, 7_000])
    expect(looks).toBe(2)
  })

  it('reads Retry-After as seconds or an HTTP date; 0 or junk leaves the schedule', () => {
    expect(retryAfterMs('2')).toBe(2_000)
    expect(retryAfterMs('Mon, 30 Nov 2026 18:00:05 GMT', Date.parse('2026-11-30T18:00:00Z'))).toBe(
      5_000
    )
    expect(retryAfterMs('0')).toBeUndefined()
    expect(retryAfterMs('soon')).toBeUndefined()
    expect(retryAfterMs(undefined)).toBeUndefined()
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
    const statuses: Record<number, string> = { 0: 'Provisioning', 5_000: 'Pending' }
    const waiterWithLog = new Waiter({
      pollIntervalMs: 120_000,
      stepDeadline: Number.MAX_SAFE_INTEGER,
      signal: new AbortController().signal,
      log,
      clock
    })
    const value = await waiterWithLog.until({ ...request, timeoutMs: 300_000 }, async () =>
      clock.now() >= 180_000
        ? { done: true, value: 'ready' }
        : { done: false, status: statuses[clock.now()] ?? 'Pending' }
    )
    expect(value).toBe('ready')
    // Looks every 5 s up to 60 s, then at 180 s (P); 30 s of silence brings a heartbeat.
    expect(lines).toEqual([
      '0 Waiting for the thing: Provisioning',
      '5000 Waiting for the thing: Provisioning → Pending (after 5s)',
      "35000 Still waiting for the thing: Pending (35s elapsed, limit 'approval-timeout' (5m))",
      "65000 Still waiting for the thing: Pending (1m 5s elapsed, limit 'approval-timeout' (5m))",
      "95000 Still waiting for the thing: Pending (1m 35s elapsed, limit 'approval-timeout' (5m))",
      "125000 Still waiting for the thing: Pending (2m 5s elapsed, limit 'approval-timeout' (5m))",
      "155000 Still waiting for the thing: Pending (2m 35s elapsed, limit 'approval-timeout' (5m))",
      '180000 Done waiting for the thing after 3m.'
    ])
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
