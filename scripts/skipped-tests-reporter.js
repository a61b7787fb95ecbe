// A jest reporter that says once, at the very end of the run, which tests were skipped and why they
// skip, so a missing tool (the Azure CLI) is visible instead of a quiet "skipped" count.
import process from 'node:process'

export default class SkippedTestsReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.testResults.flatMap((file) =>
      file.testResults
        .filter((test) => test.status === 'pending' || test.status === 'skipped')
        .map((test) => test.fullName)
    )
    if (skipped.length === 0) return
    const lines = [
      '',
      `${skipped.length} test(s) skipped:`,
      ...skipped.map((name) => `  - ${name}`),
      'Tests that use the Azure CLI skip when `az` is not on PATH: install it (Debian: apt-get install azure-cli)',
      'and run `npm test` again to run them; `.ci/run` installs it.',
      ''
    ]
    process.stderr.write(lines.join('\n'))
  }
}
