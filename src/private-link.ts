// Private Link group ids (the target's sub-resource a private endpoint connects to), one place for
// the action, the emulator and the tests. Source: Microsoft's table of Private Link resources,
// https://learn.microsoft.com/azure/private-link/private-endpoint-overview#private-link-resource

/** An Azure Database for PostgreSQL flexible server's group (`Microsoft.DBforPostgreSQL/flexibleServers`). */
export const postgresGroupId = 'postgresqlServer'

/** A Key Vault's group (`Microsoft.KeyVault/vaults`). */
export const keyVaultGroupId = 'vault'
