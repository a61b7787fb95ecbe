// Run before the test suite: when the PostgreSQL binaries are missing or broken, one line says why and
// the suite stops here instead of failing every test that starts a cluster.
import { exitIfNoPostgres, findPostgresBinaries } from './index.js'

console.log(
  `PostgreSQL for the local Azure: ${await findPostgresBinaries().catch(exitIfNoPostgres)}`
)
