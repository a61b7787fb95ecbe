import { describe, expect, it } from '@jest/globals'
import { durationProblem, formatDuration, maxDurationMs, parseDuration } from '../src/duration.js'

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['30', 30_000],
    ['1.5m', 90_000],
    [' 2M ', 120_000]
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it.each(['', '0', '-5s', '10 minutes', 'ms', '5d'])('refuses %p', (text) =>
    expect(parseDuration(text)).toBeUndefined()
  )

  it('bounds durations by the longest job (5 days), which Node timers can also hold', () => {
    expect(maxDurationMs).toBe(432_000_000)
    expect(maxDurationMs).toBeLessThan(2 ** 31 - 1)
    expect(durationProblem('120h')).toBeUndefined()
    expect(durationProblem('120.001h')).toMatch(/at most 5 days \(120h\)/)
    expect(durationProblem('99999999h')).toMatch(/at most 5 days/)
    expect(durationProblem('soon')).toMatch(/such as 500ms, 10s/)
  })

  it('formats for people', () => {
    expect(formatDuration(750)).toBe('750ms')
    expect(formatDuration(125_000)).toBe('2m 5s')
    expect(formatDuration(3_723_000)).toBe('1h 2m 3s')
  })
})
