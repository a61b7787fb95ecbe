// What Data Factory's Lookup activity does with a PostgreSQL v2 linked service: one query, first row.
import type { ConnectionOptions } from 'node:tls'
import pg from 'pg'
import { encryptedSslModesText, isEncryptedSslMode, sslModeNumbers } from '../../src/ssl-modes.js'
import type { LookupRequest, LookupResult } from './types.js'

// Refusing the unencrypted modes outright is a modelling choice (a real Prefer would negotiate
// TLS); the action never writes them.

/** TLS options for the linked service's sslMode; undefined for modes the emulated server cannot accept. */
function tlsOptions(req: LookupRequest): ConnectionOptions | undefined {
  if (!isEncryptedSslMode(req.sslMode)) return undefined
  return {
    ca: req.caPem,
    // SNI and the host name check use the FQDN although the socket goes to 127.0.0.1
    servername: req.serverName,
    // require and verify-ca skip only the host name check, as in libpq; the chain is always verified
    ...(req.sslMode !== sslModeNumbers['verify-full'] && { checkServerIdentity: () => undefined })
  }
}

/** A PostgreSQL SQLSTATE, a Node error code (ECONNREFUSED, ERR_TLS_CERT_ALTNAME_INVALID, …) or ETIMEDOUT. */
function failure(error: unknown): LookupResult {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') return { ok: false, errorCode: code, message }
  return { ok: false, errorCode: /timeout/i.test(message) ? 'ETIMEDOUT' : 'ECONNECTION', message }
}

/** Connects to the cluster as the linked service describes and returns the query's first row. */
export async function runLookup(req: LookupRequest): Promise<LookupResult> {
  const ssl = tlsOptions(req)
  if (!ssl) {
    return {
      ok: false,
      errorCode: 'UNSUPPORTED_SSL_MODE',
      message:
        `sslMode ${req.sslMode} is not supported: Azure Database for PostgreSQL requires ` +
        `encrypted connections (use ${encryptedSslModesText({ numbered: true })})`
    }
  }
  const client = new pg.Client({
    host: req.address.host,
    port: req.address.port,
    database: req.database,
    user: req.user,
    password: req.password,
    ssl,
    connectionTimeoutMillis: req.timeoutMs,
    statement_timeout: req.timeoutMs,
    query_timeout: req.timeoutMs
  })
  // A connection lost between queries is reported here; the pending call already rejects with it
  client.on('error', () => undefined)
  try {
    await client.connect()
    const result = await client.query(req.query)
    return { ok: true, firstRow: (result.rows[0] as Record<string, unknown> | undefined) ?? {} }
  } catch (error) {
    return failure(error)
  } finally {
    await client.end().catch(() => undefined)
  }
}
