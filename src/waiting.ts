// The one place that waits: polls with backoff until done, a deadline passes or the run is cancelled.
import { formatDuration } from './duration.js'
import { ActionError, CancelledError } from './errors.js'
import type { Logger } from './io.js'

export type Poll<T> = { done: true; value: T } | { done: false; status: string }

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
}

export class WaitTimeoutError extends ActionError {
  constructor(message: string, hint: string) {
    super(message, { hint })
    this.name = 'WaitTimeoutError'
  }
}

/** The first pause; later pauses double up to `poll-interval`. */
const firstPollDelayMs = 500
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

  /** Calls `probe` until it reports done; logs each new status. */
  async until<T>(request: WaitRequest, probe: () => Promise<Poll<T>>): Promise<T> {
    const started = this.clock.now()
    const ownDeadline = started + request.timeoutMs
    const deadline = Math.min(ownDeadline, this.options.stepDeadline)
    let delay = Math.min(firstPollDelayMs, this.options.pollIntervalMs)
    let lastStatus = ''
    for (let poll = 1; poll <= maxPollsPerWait; poll++) {
      this.checkCancelled(`waiting for ${request.what}`)
      const result = await probe()
      if (result.done) return result.value
      if (result.status !== lastStatus) {
        this.options.log.info(`Waiting for ${request.what}: ${result.status}`)
        lastStatus = result.status
      }
      const remaining = deadline - this.clock.now()
      if (remaining <= 0) break
      await this.clock.sleep(
        Math.min(delay, remaining),
        this.options.signal,
        `waiting for ${request.what}`
      )
      delay = Math.min(delay * 2, this.options.pollIntervalMs)
    }
    const limit =
      ownDeadline <= this.options.stepDeadline
        ? `'${request.timeoutInput}' (${formatDuration(request.timeoutMs)})`
        : `the step's 'timeout'`
    throw new WaitTimeoutError(
      `Timed out after ${formatDuration(this.clock.now() - started)} waiting for ${request.what} (limit: ${limit}; last seen: ${lastStatus || 'nothing yet'}).`,
      request.hint
    )
  }
}
