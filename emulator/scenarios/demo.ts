// The demo: the basic scenario with seconds-scale delays, so each state change is visible and the whole run stays under a minute.
import { demoDelays } from '../src/delays.js'
import type { Scenario } from '../src/types.js'
import { basicScenario } from './basic.js'

export function demoScenario(overrides: Partial<Scenario> = {}): Scenario {
  return basicScenario({ ...overrides, delays: { ...demoDelays, ...overrides.delays } })
}
