// A storage account reached only with Entra identities: shared keys (and so SAS and key-based connection strings)
// are refused by the service, not just unused.
param name string
param location string
param tags object = {}
param containers string[] = []
param tables string[] = []
@description('Days a deleted blob or container can be restored; left out (null), soft delete stays off.')
@minValue(1)
@maxValue(365)
param deleteRetentionDays int?
@description('Log Analytics workspace that receives the diagnostic settings; empty sends none.')
param logAnalyticsWorkspaceId string = ''
@description('With diagnostics on: the blob and table services\' resource logs (every read, write and delete) besides their metrics.')
param resourceLogs bool = false

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
  properties: deleteRetentionDays == null
    ? {}
    : {
        deleteRetentionPolicy: {
          enabled: true
          days: deleteRetentionDays
        }
        containerDeleteRetentionPolicy: {
          enabled: true
          days: deleteRetentionDays
        }
      }
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

// Diagnostics (off unless a workspace is given): the account's transaction metrics, and the blob and table services'
// metrics, with their resource logs when asked for. Storage logs per service, not per account
// (learn.microsoft.com/azure/storage/blobs/monitor-blob-storage).
var diagnostics = !empty(logAnalyticsWorkspaceId)
var transactionMetrics = [
  {
    category: 'Transaction'
    enabled: true
  }
]
var serviceLogs = resourceLogs
  ? [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  : []

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (diagnostics) {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: transactionMetrics
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (diagnostics) {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (diagnostics) {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: serviceLogs
    metrics: transactionMetrics
  }
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
