// Durations as inputs spell them: `500ms`, `10s`, `5m`, `1h`, or plain seconds.

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i

/**
 * The longest duration any input may give: 5 days, the longest a job can run (on a self-hosted
 * runner; GitHub-hosted jobs stop after 6 h). Source: GitHub Docs, "Usage limits" for Actions.
 */
export const maxDurationMs = 5 * 24 * 3_600_000

/** Milliseconds for a duration text, or undefined when it is not one (or not above zero). */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text.trim())
  if (!match) return undefined
  const ms = Math.round(Number(match[1]) * unitMs[(match[2] ?? 's').toLowerCase()])
  return ms > 0 ? ms : undefined
}

/** Why `text` is not a usable duration (not one, zero, or longer than maxDurationMs), or undefined. */
export function durationProblem(text: string): string | undefined {
  const ms = parseDuration(text)
  if (ms === undefined)
    return 'must be a duration above zero such as 500ms, 10s, 5m, 1h or plain seconds'
  if (ms > maxDurationMs)
    return 'must be at most 5 days (120h), the longest a job can run (on a self-hosted runner; GitHub-hosted jobs stop after 6h)'
  return undefined
}

/** `1h 2m 3s`, `2m 5s`, `750ms`: for messages and the summary. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const totalSeconds = Math.round(ms / 1000)
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = totalSeconds % 60
  const parts = [
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    seconds ? `${seconds}s` : ''
  ]
  return parts.filter(Boolean).join(' ') || '0s'
}
