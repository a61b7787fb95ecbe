// Where the cluster's files live: a clone in a folder only its owner can enter (a home folder, a
// `mktemp -d`) must still start PostgreSQL, which refuses root and so runs as another user.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { chmod, cp, mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createCertificateAuthority } from '../src/ca.js'
import { runLookup } from '../src/lookup.js'
import {
  findPostgresBinaries,
  PostgresUnavailableError,
  startPostgresCluster
} from '../src/postgres-cluster.js'
import type { CertificateAuthority } from '../src/types.js'

const serverName = 'pgflex-folders.postgres.database.azure.com'
const role = { name: 'adfuser', password: 'Adf-Passw0rd!' }
let workDir: string
let ca: CertificateAuthority

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'emulator-pg-folders-'))
  ca = await createCertificateAuthority(workDir)
}, 60_000)

afterAll(async () => {
  await chmod(workDir, 0o700)
  await rm(workDir, { recursive: true, force: true })
}, 30_000)

describe('startPostgresCluster and the folders it runs from', () => {
  test('starts from binaries inside a folder only its owner can enter (mode 0700)', async () => {
    // The platform package's whole tree (bin, lib, share), as `npm ci` lays it out in a private clone
    const installed = path.dirname(await findPostgresBinaries())
    const privateClone = path.join(workDir, 'private-clone')
    await cp(installed, path.join(privateClone, 'native'), {
      recursive: true,
      verbatimSymlinks: true
    })
    await chmod(privateClone, 0o700)

    const cluster = await startPostgresCluster({
      ca,
      serverName,
      databases: ['sales'],
      roles: [role],
      binDir: path.join(privateClone, 'native', 'bin')
    })
    try {
      await expect(
        runLookup({
          address: cluster.address,
          serverName,
          database: 'sales',
          user: role.name,
          password: role.password,
          sslMode: 3,
          query: 'SELECT 1 AS ok',
          caPem: ca.certPem,
          timeoutMs: 10_000
        })
      ).resolves.toEqual({ ok: true, firstRow: { ok: 1 } })
    } finally {
      await cluster.stop()
    }
  }, 120_000)

  test('a temporary folder the database user cannot enter is one line saying what to do', async () => {
    // Mode 0000: neither the cluster user (as root) nor this user itself (otherwise) may enter it
    const closed = path.join(workDir, 'closed-tmp')
    await mkdir(closed, { mode: 0o000 })
    await chmod(closed, 0o000)
    try {
      const failure = await startPostgresCluster({
        ca,
        serverName,
        databases: ['sales'],
        roles: [role],
        tempDir: closed
      }).then(
        (cluster) => cluster.stop(),
        (error: unknown) => error
      )
      expect(failure).toBeInstanceOf(PostgresUnavailableError)
      const message = (failure as Error).message
      expect(message).not.toContain('\n')
      expect(message).toContain(closed)
      expect(message).toMatch(/TMPDIR/)
    } finally {
      await chmod(closed, 0o700)
    }
  }, 60_000)
})
