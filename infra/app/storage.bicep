// A storage account reached only with Entra identities: shared keys (and so SAS and key-based connection strings)
// are refused by the service, not just unused.
param name string
param location string
param tags object = {}
param containers string[] = []
param tables string[] = []
@description('Days a deleted blob or container can be restored; 0 turns soft delete off.')
@minValue(0)
@maxValue(365)
param deleteRetentionDays int = 0

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    dnsEndpointType: 'Standard'
    // Reachable from the Flex Consumption app without a virtual network; restrict with private endpoints and
    // 'Deny' once the app is VNet-integrated (see the README's Security section).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: deleteRetentionDays > 0
    ? {
        deleteRetentionPolicy: {
          enabled: true
          days: deleteRetentionDays
        }
        containerDeleteRetentionPolicy: {
          enabled: true
          days: deleteRetentionDays
        }
      }
    : {}
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource storageTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for table in tables: {
    parent: tableService
    name: table
  }
]

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
