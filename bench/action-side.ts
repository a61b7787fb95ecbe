// The action's side: the bundled action run as a GitHub runner runs it, once per path.
import type { RunningEmulator, Scenario } from '../emulator/index.js'
import { runAction, scenarioInputs } from '../runner/index.js'
import type { BenchPath } from './scenario.js'
import type { ProcessSpan } from './timeline.js'

/**
 * Runs dist/index.js for `path` (a fresh apply, or a re-run with or without the connection test);
 * answers its process span in epoch ms. Throws when the action fails: a failed run measures nothing.
 */
export async function runActionPath(
  emulator: RunningEmulator,
  scenario: Scenario,
  path: BenchPath,
  pollIntervalMs: number
): Promise<ProcessSpan[]> {
  const result = await runAction({
    inputs: {
      ...scenarioInputs(scenario, emulator.url),
      'poll-interval': `${pollIntervalMs}ms`,
      ...(path === 'noop' ? { 'test-connection': 'false' } : {})
    },
    env: emulator.env,
    killAfterMs: 300_000
  })
  // runAction times spawn → exit; its clean-up afterwards takes a few ms, so the start is that much late.
  const endMs = Date.now()
  if (result.exitCode !== 0) {
    throw new Error(
      `The action failed on the ${path} path (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`
    )
  }
  return [{ startMs: endMs - result.durationMs, endMs }]
}
