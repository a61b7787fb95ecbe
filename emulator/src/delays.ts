// How long the emulated Azure takes for each change: realistic defaults, and the scales tests and the demo use.
import type { Delays } from './types.js'

/** Roughly what Azure takes (minutes-scale), for anyone starting the emulator without a scenario opinion. */
const azureLikeDelays: Delays = {
  endpointProvisioningMs: 90_000,
  connectionAppearsMs: 20_000,
  connectionUpdateMs: 15_000,
  approvalDiscoveryMs: 120_000,
  endpointDeletionMs: 60_000,
  pipelineQueuedMs: 30_000,
  blockedNetworkTimeoutMs: 30_000,
  oidcTokenLifetimeSeconds: 300,
  accessTokenLifetimeSeconds: 3600
}

/** Milliseconds-scale, so a test walks the whole workflow quickly while every state still happens. */
export const testDelays: Delays = {
  endpointProvisioningMs: 40,
  connectionAppearsMs: 20,
  connectionUpdateMs: 20,
  approvalDiscoveryMs: 40,
  endpointDeletionMs: 30,
  pipelineQueuedMs: 20,
  blockedNetworkTimeoutMs: 200,
  oidcTokenLifetimeSeconds: 300,
  accessTokenLifetimeSeconds: 3600
}

/** Seconds-scale: the demo shows every state change and still finishes well under a minute. */
export const demoDelays: Delays = {
  endpointProvisioningMs: 4_000,
  connectionAppearsMs: 2_000,
  connectionUpdateMs: 2_000,
  approvalDiscoveryMs: 4_000,
  endpointDeletionMs: 3_000,
  pipelineQueuedMs: 2_000,
  blockedNetworkTimeoutMs: 5_000,
  oidcTokenLifetimeSeconds: 300,
  accessTokenLifetimeSeconds: 3600
}

export function resolveDelays(overrides: Partial<Delays> | undefined): Delays {
  return { ...azureLikeDelays, ...overrides }
}

/** Waits without keeping the process alive, so a stopped emulator never lingers on a pending delay. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
