// The one place that waits: polls on a fixed schedule until done, a deadline passes or the run is cancelled.
import { formatDuration } from './duration.js'
import { ActionError, CancelledError } from './errors.js'
import type { Logger } from './io.js'

/**
 * One look's outcome. `retryAfterMs`: Azure's own hint (a Retry-After header) of when to look
 * next; it replaces the schedule's pause for that one look.
 */
export type Poll<T> =
  { done: true; value: T } | { done: false; status: string; retryAfterMs?: number }

/**
 * A Retry-After header's wait in ms (delay-seconds or an HTTP date), or undefined when absent,
 * unreadable or zero (then the schedule's pace applies). Source: RFC 9110 §10.2.3.
 */
export function retryAfterMs(header: string | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined
  const seconds = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : undefined
  const ms = seconds ?? Date.parse(header) - now
  return Number.isFinite(ms) && ms > 0 ? ms : undefined
}

export interface Clock {
  now(): number
  /** Resolves after `ms`, or rejects with CancelledError when `signal` aborts first. */
  sleep(ms: number, signal: AbortSignal, during: string): Promise<void>
}

const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal, during) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new CancelledError(during))
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(new CancelledError(during))
      }
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal.addEventListener('abort', onAbort, { once: true })
    })
}

export interface WaitRequest {
  /** What is awaited, in words: "the endpoint pg-x to reach provisioningState Succeeded". */
  what: string
  /** This wait's own limit; the whole step's `timeout` may cut it shorter. */
  timeoutMs: number
  /** The name of the input that sets `timeoutMs`, for the message. */
  timeoutInput: string
  /** What to do when it times out. */
  hint: string
  /**
   * The caller's last response just said "not yet" (a PUT answering Provisioning, a list without
   * the connection): the first look waits one pause instead of asking again at once.
   */
  justLooked?: boolean
  /** With `justLooked`: that answer's Retry-After (ms), the first pause instead of the schedule's. */
  retryAfterMs?: number
}

export class WaitTimeoutError extends ActionError {
  constructor(message: string, hint: string) {
    super(message, { hint })
    this.name = 'WaitTimeoutError'
  }
}

/**
 * How long a wait keeps its quick pace: Azure's short changes (an approval operation, a connection
 * appearing, a queued run: seconds to tens of seconds) end within it; longer waits then cost one
 * look per `poll-interval`.
 */
export const quickPhaseMs = 60_000

/** The quick pace's longest pause, so a long `poll-interval` still sees a quick change in seconds. */
export const quickPaceCapMs = 5_000

/**
 * The pause before the next look, ms, after `waitedMs` of waiting: min(`pollIntervalMs` / 2, 5 s)
 * during the first minute, then `pollIntervalMs`. A fixed pace P notices a change P/2 late on
 * average and never more than P late; a doubling backoff (0.5, 1, 2 s…) spends its early looks
 * before anything can have changed and then notices as late as a fixed pace.
 */
export function nextPauseMs(pollIntervalMs: number, waitedMs: number): number {
  return waitedMs < quickPhaseMs ? Math.min(pollIntervalMs / 2, quickPaceCapMs) : pollIntervalMs
}

/** Longest silence during a wait: a heartbeat line at least this often. */
const heartbeatMs = 30_000
/** A safety bound on the number of looks per wait, whatever the durations. */
const maxPollsPerWait = 10_000

export interface WaiterOptions {
  pollIntervalMs: number
  /** Absolute time (clock ms) when the whole step's `timeout` runs out. */
  stepDeadline: number
  signal: AbortSignal
  log: Logger
  clock?: Clock
}

export class Waiter {
  private readonly clock: Clock

  constructor(private readonly options: WaiterOptions) {
    this.clock = options.clock ?? systemClock
  }

  get signal(): AbortSignal {
    return this.options.signal
  }

  /** Throws CancelledError when the run has been cancelled. */
  checkCancelled(during: string): void {
    if (this.options.signal.aborted) throw new CancelledError(during)
  }

  /**
   * Calls `probe` until it reports done. Speaks while it waits: a line when the status changes,
   * one when done, and a heartbeat (what, elapsed, limit) when nothing was said for 30 s, however
   * long `poll-interval` is. Throws WaitTimeoutError at the limit, CancelledError on cancel.
   */
  async until<T>(request: WaitRequest, probe: () => Promise<Poll<T>>): Promise<T> {
    const { log } = this.options
    const started = this.clock.now()
    const ownDeadline = started + request.timeoutMs
    const deadline = Math.min(ownDeadline, this.options.stepDeadline)
    const limit =
      ownDeadline <= this.options.stepDeadline
        ? `'${request.timeoutInput}' (${formatDuration(request.timeoutMs)})`
        : `the step's 'timeout'`
    const during = `waiting for ${request.what}`
    const elapsed = (): string => formatDuration(this.clock.now() - started)
    let lastStatus = ''
    // When the log last said something about this wait (planned times, so a frozen clock still ends).
    let spokeAt = started
    for (let poll = 1; poll <= maxPollsPerWait; poll++) {
      this.checkCancelled(during)
      const result: Poll<T> =
        poll === 1 && request.justLooked
          ? { done: false, status: '', retryAfterMs: request.retryAfterMs }
          : await probe()
      if (result.done) {
        if (lastStatus) log.info(`Done waiting for ${request.what} after ${elapsed()}.`)
        return result.value
      }
      if (result.status && result.status !== lastStatus) {
        log.info(
          lastStatus
            ? `Waiting for ${request.what}: ${lastStatus} → ${result.status} (after ${elapsed()})`
            : `Waiting for ${request.what}: ${result.status}`
        )
        lastStatus = result.status
        spokeAt = this.clock.now()
      }
      const now = this.clock.now()
      if (deadline - now <= 0) break
      const pause = result.retryAfterMs ?? nextPauseMs(this.options.pollIntervalMs, now - started)
      const nextPollAt = Math.min(now + pause, deadline)
      // Bounded: one heartbeat per 30 s of a pause that is at most poll-interval long.
      while (spokeAt + heartbeatMs < nextPollAt) {
        spokeAt += heartbeatMs
        await this.clock.sleep(Math.max(0, spokeAt - this.clock.now()), this.options.signal, during)
        log.info(
          `Still waiting for ${request.what}: ${lastStatus} (${elapsed()} elapsed, limit ${limit})`
        )
      }
      await this.clock.sleep(
        Math.max(0, nextPollAt - this.clock.now()),
        this.options.signal,
        during
      )
    }
    throw new WaitTimeoutError(
      `Timed out after ${elapsed()} waiting for ${request.what} (limit: ${limit}; last seen: ${lastStatus || 'nothing yet'}).`,
      request.hint
    )
  }
}
