// Run before the test suite: when PostgreSQL cannot run here (binaries missing or broken, no user or
// folder it may use), one line says why and the suite stops instead of failing every test that starts a cluster.
import { exitIfNoPostgres, planPostgres } from './index.js'

const plan = await planPostgres().catch(exitIfNoPostgres)
console.log(
  `PostgreSQL for the local Azure: ${plan.binDir}, run as \`${plan.runAs}\`` +
    (plan.mirror ? ` from a copy in each cluster's folder under ${plan.tempDir}` : '')
)
