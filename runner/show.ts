// How a person sees a run of the bundle: the runner's log (masks and debug lines hidden, annotations
// labelled), then the outputs and the job summary. Used by `npm run demo` and `npm run action`.
import { decodeCommandData, type ActionResult } from './index.js'

/** A chunk of the action's stdout as a runner's log shows it. */
export function asRunnerLog(chunk: string): string {
  return chunk
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::') && !line.startsWith('::debug::'))
    .map((line) =>
      line.replace(
        /^::(error|warning|notice)[^:]*::(.*)$/,
        (_, level: string, data: string) => `${level.toUpperCase()}: ${decodeCommandData(data)}`
      )
    )
    .join('\n')
}

/** Prints stderr, the outputs, the job summary and the exit code of a finished run. */
export function showResult(result: ActionResult): void {
  process.stderr.write(result.stderr)
  console.log('\n── Outputs ──')
  for (const [name, value] of Object.entries(result.outputs)) console.log(`${name}: ${value}`)
  console.log('\n── Job summary ──')
  console.log(result.summary)
  console.log(
    `Action finished in ${(result.durationMs / 1000).toFixed(1)} s with exit code ${result.exitCode}.`
  )
}
