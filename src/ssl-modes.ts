// The PostgreSQL SSL modes by name and by the number Data Factory's AzurePostgreSql 2.0 linked
// service stores in `typeProperties.sslMode` (Npgsql's SslMode: 0 disable … 5 verify-full).
// Source: https://learn.microsoft.com/azure/data-factory/connector-azure-database-for-postgresql
// (linked service properties, "sslMode"). One table for the action, the emulator and the tests.

/** Every mode, name → number. */
export const sslModeNumbers = {
  disable: 0,
  allow: 1,
  prefer: 2,
  require: 3,
  'verify-ca': 4,
  'verify-full': 5
} as const

export type SslModeName = keyof typeof sslModeNumbers

/** The modes that always encrypt: the only ones the action writes and Azure's server accepts. */
export const encryptedSslModes = ['require', 'verify-ca', 'verify-full'] as const

export type SslMode = (typeof encryptedSslModes)[number]

/** The name of an sslMode number, or undefined for a number no mode has. */
export function sslModeName(mode: number): SslModeName | undefined {
  return (Object.keys(sslModeNumbers) as SslModeName[]).find(
    (name) => sslModeNumbers[name] === mode
  )
}

/** Whether an sslMode number is one of the encrypted modes. */
export function isEncryptedSslMode(mode: number): boolean {
  const name = sslModeName(mode)
  return name !== undefined && (encryptedSslModes as readonly string[]).includes(name)
}

/**
 * The encrypted modes as a message lists them: "require, verify-ca or verify-full", or with
 * `numbered` "3 require, 4 verify-ca or 5 verify-full".
 */
export function encryptedSslModesText({ numbered = false } = {}): string {
  const items = encryptedSslModes.map((name) =>
    numbered ? `${sslModeNumbers[name]} ${name}` : name
  )
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}
