import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { createCertificateAuthority } from '../src/ca.js'
import { runLookup } from '../src/lookup.js'
import { startPostgresCluster, type PostgresCluster } from '../src/postgres-cluster.js'
import type { CertificateAuthority, LookupRequest } from '../src/types.js'

const serverName = 'pgflex-sales.postgres.database.azure.com'
let caDir: string
let ca: CertificateAuthority
let cluster: PostgresCluster

function lookup(overrides: Partial<LookupRequest> = {}): LookupRequest {
  return {
    address: cluster.address,
    serverName,
    database: 'sales',
    user: 'adfuser',
    password: 'Adf-Passw0rd!',
    sslMode: 3,
    query: 'SELECT 1 AS ok',
    caPem: ca.certPem,
    timeoutMs: 10_000,
    ...overrides
  }
}

function portAcceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.setTimeout(2_000, () => socket.destroy())
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('close', () => resolve(false))
  })
}

beforeAll(async () => {
  caDir = await mkdtemp(path.join(os.tmpdir(), 'emulator-pg-test-ca-'))
  ca = await createCertificateAuthority(caDir)
  cluster = await startPostgresCluster({
    ca,
    serverName,
    databases: ['sales'],
    roles: [
      { name: 'adfuser', password: 'Adf-Passw0rd!' },
      { name: 'reporting', password: "it's-a-quote" }
    ]
  })
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
  await rm(caDir, { recursive: true, force: true })
}, 30_000)

describe('runLookup against the emulated Flexible Server', () => {
  test('returns the first row with the right password (sslMode require)', async () => {
    await expect(runLookup(lookup())).resolves.toEqual({ ok: true, firstRow: { ok: 1 } })
  })

  test('returns {} when the query yields no rows', async () => {
    const result = await runLookup(lookup({ query: 'SELECT 1 AS ok WHERE false' }))
    expect(result).toEqual({ ok: true, firstRow: {} })
  })

  test('the database is owned by the first role, and other roles can sign in', async () => {
    const owner = await runLookup(
      lookup({
        query:
          'SELECT current_user AS who, pg_get_userbyid(datdba) AS owner FROM pg_database ' +
          'WHERE datname = current_database()'
      })
    )
    expect(owner).toEqual({ ok: true, firstRow: { who: 'adfuser', owner: 'adfuser' } })
    const other = await runLookup(lookup({ user: 'reporting', password: "it's-a-quote" }))
    expect(other).toEqual({ ok: true, firstRow: { ok: 1 } })
  })

  test('a wrong password fails with PostgreSQL’s own message and SQLSTATE', async () => {
    await expect(runLookup(lookup({ password: 'wrong' }))).resolves.toEqual({
      ok: false,
      errorCode: '28P01',
      message: 'password authentication failed for user "adfuser"'
    })
  })

  test('a failing query carries its SQLSTATE', async () => {
    const result = await runLookup(lookup({ query: 'SELECT * FROM no_such_table' }))
    expect(result).toEqual({
      ok: false,
      errorCode: '42P01',
      message: 'relation "no_such_table" does not exist'
    })
  })

  test('verify-full succeeds for the server’s FQDN', async () => {
    const result = await runLookup(lookup({ sslMode: 5 }))
    expect(result).toEqual({ ok: true, firstRow: { ok: 1 } })
  })

  test('verify-full fails on the certificate for another server name', async () => {
    const result = await runLookup(
      lookup({ sslMode: 5, serverName: 'other.postgres.database.azure.com' })
    )
    expect(result).toMatchObject({ ok: false, errorCode: 'ERR_TLS_CERT_ALTNAME_INVALID' })
    expect(result.ok || result.message).toMatch(/other\.postgres\.database\.azure\.com/)
  })

  test('verify-ca ignores the host name but not the chain', async () => {
    const otherName = lookup({ sslMode: 4, serverName: 'other.postgres.database.azure.com' })
    await expect(runLookup(otherName)).resolves.toEqual({ ok: true, firstRow: { ok: 1 } })

    const otherCaDir = await mkdtemp(path.join(os.tmpdir(), 'emulator-pg-test-other-ca-'))
    try {
      const otherCa = await createCertificateAuthority(otherCaDir)
      const result = await runLookup(lookup({ sslMode: 4, caPem: otherCa.certPem }))
      expect(result).toMatchObject({ ok: false, errorCode: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })
    } finally {
      await rm(otherCaDir, { recursive: true, force: true })
    }
  })

  test('sslMode below require is refused without connecting', async () => {
    const result = await runLookup(lookup({ sslMode: 1 }))
    expect(result).toMatchObject({ ok: false, errorCode: 'UNSUPPORTED_SSL_MODE' })
    expect(result.ok || result.message).toMatch(/sslMode 1 is not supported/)
  })

  test('a connection without TLS is refused by pg_hba.conf', async () => {
    const client = new pg.Client({
      ...cluster.address,
      database: 'sales',
      user: 'adfuser',
      password: 'Adf-Passw0rd!',
      ssl: false,
      connectionTimeoutMillis: 10_000
    })
    try {
      await expect(client.connect()).rejects.toMatchObject({
        code: '28000',
        message: expect.stringMatching(
          /no pg_hba\.conf entry for host "127\.0\.0\.1".*no encryption/
        )
      })
    } finally {
      await client.end()
    }
  })

  test('stop() frees the port and removes the data folder, and can be called again', async () => {
    expect(existsSync(cluster.dataDir)).toBe(true)
    await cluster.stop()
    await expect(portAcceptsConnections(cluster.address.port)).resolves.toBe(false)
    expect(existsSync(cluster.dataDir)).toBe(false)
    expect(existsSync(path.dirname(cluster.dataDir))).toBe(false)
    await expect(cluster.stop()).resolves.toBeUndefined()
  })
})
