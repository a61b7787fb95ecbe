import { describe, expect, it } from '@jest/globals'
import { driftPolicy, writesNothing, type Mode } from '../src/settings.js'

const modes: Mode[] = ['apply', 'plan', 'destroy', 'check', 'approve']

describe('writesNothing', () => {
  it('holds for plan and check only', () => {
    expect(modes.filter(writesNothing)).toEqual(['plan', 'check'])
  })
})

describe('driftPolicy', () => {
  it('is recreate in check (drift reported as its repair), on-drift in every other mode', () => {
    for (const mode of modes) {
      for (const onDrift of ['fail', 'recreate'] as const) {
        expect({ mode, onDrift, policy: driftPolicy({ mode, onDrift }) }).toEqual({
          mode,
          onDrift,
          policy: mode === 'check' ? 'recreate' : onDrift
        })
      }
    }
  })
})
