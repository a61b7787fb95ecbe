// Smoke test of `npm run bench`'s library: one round with millisecond delays (action side only, the
// path taken when `az` is missing) yields every row with finite figures. It asserts no wall time.
import { describe, expect, test } from '@jest/globals'
import { runBench } from '../bench/bench.js'
import { stateChangesOf } from '../bench/scenario.js'
import { formatResult, tableColumns, tableRows } from '../bench/table.js'
import { testDelays } from '../emulator/index.js'
import { scenarioTimeoutMs } from './harness.js'

describe('npm run bench', () => {
  test(
    'one quick round gives a finite figure in every column of every path, and says why the CLI side is missing',
    async () => {
      const result = await runBench({
        rounds: 1,
        delays: testDelays,
        pollIntervalMs: 100,
        azureCli: false
      })

      const rows = tableRows(result)
      expect(rows.map((row) => [row.path, row.side])).toEqual([
        ['fresh', 'action'],
        ['noop', 'action'],
        ['test', 'action']
      ])
      for (const row of rows) {
        const noticeColumns = ['notice median s', 'notice max s']
        for (const column of tableColumns.slice(2)) {
          const applies = !noticeColumns.includes(column) || stateChangesOf[row.path].length > 0
          expect([row.path, column, Number.isFinite(row.figures[column])]).toEqual([
            row.path,
            column,
            applies
          ])
        }
      }
      const fresh = result.measurements.find((m) => m.path === 'fresh')
      expect(fresh?.noticeLagMs.map((notice) => notice.change)).toEqual(stateChangesOf.fresh)
      expect(fresh?.inherentMs).toBe(
        testDelays.endpointProvisioningMs +
          testDelays.connectionAppearsMs +
          testDelays.connectionUpdateMs +
          testDelays.approvalDiscoveryMs +
          testDelays.pipelineQueuedMs
      )
      expect(formatResult(result)).toContain('Azure CLI side not measured: not asked for.')
    },
    scenarioTimeoutMs
  )
})
