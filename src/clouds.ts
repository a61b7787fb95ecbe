// The Azure clouds the action signs in to: one row per cloud with every endpoint and name that
// differs between them, for the action, the emulator and the tests. Sources: `az cloud show --name
// <cloud>` (Resource Manager endpoint, authority host); azure/login's README (the OIDC audience
// per cloud); the AzurePostgreSql linked service's `azureCloudType` (AzurePublic, AzureChina,
// AzureUsGovernment: ../shared/reference/azure-api.md §4.1, from Data Factory's spec); and the
// flexible server host names per cloud (Microsoft's "Azure Government / Azure China" endpoint pages).

export type CloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud'

export interface Cloud {
  /** The `environment` input's value, as azure/login and the Azure CLI name the cloud. */
  name: CloudName
  /** Resource Manager's endpoint (https, no trailing slash). */
  resourceManagerEndpoint: string
  /** Microsoft Entra ID's authority host (https, no trailing slash). */
  authorityHost: string
  /** The audience a GitHub OIDC token must carry for a federated credential in this cloud. */
  oidcAudience: string
  /** What a Data Factory linked service's `azureCloudType` calls this cloud. */
  dataFactoryCloudType: 'AzurePublic' | 'AzureUsGovernment' | 'AzureChina'
  /** The DNS suffix of a flexible server's host name (`<server>.<suffix>`). */
  postgresHostSuffix: string
}

export const clouds: Readonly<Record<CloudName, Cloud>> = {
  AzureCloud: {
    name: 'AzureCloud',
    resourceManagerEndpoint: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com',
    oidcAudience: 'api://AzureADTokenExchange',
    dataFactoryCloudType: 'AzurePublic',
    postgresHostSuffix: 'postgres.database.azure.com'
  },
  AzureUSGovernment: {
    name: 'AzureUSGovernment',
    resourceManagerEndpoint: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us',
    oidcAudience: 'api://AzureADTokenExchangeUSGov',
    dataFactoryCloudType: 'AzureUsGovernment',
    postgresHostSuffix: 'postgres.database.usgovcloudapi.net'
  },
  AzureChinaCloud: {
    name: 'AzureChinaCloud',
    resourceManagerEndpoint: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn',
    oidcAudience: 'api://AzureADTokenExchangeChina',
    dataFactoryCloudType: 'AzureChina',
    postgresHostSuffix: 'postgres.database.chinacloudapi.cn'
  }
}

/** The cloud names, in the table's order (the `environment` input's choices). */
export const cloudNames = Object.keys(clouds) as CloudName[]
