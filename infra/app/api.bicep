// The function app on the Flex Consumption plan, Node 22, running as the user-assigned identity. Every app setting
// the app needs in production is here; test/infra/bicepConsistency.test.ts checks them against src/config.ts.
param name string
param planName string
param location string
param tags object = {}
param identityId string
param identityClientId string
param hostStorageAccountName string
param deploymentContainerUrl string
param jobsStorageAccountName string
param serviceBusFullyQualifiedNamespace string
param jobsQueueName string
param applicationInsightsConnectionString string
param maximumInstanceCount int = 40
param instanceMemoryMB int = 2048
@description('Always-ready instances for the Service Bus trigger; 0 lets it scale to zero.')
@minValue(0)
@maxValue(1000)
param processJobAlwaysReadyInstances int = 0
@description('NCRONTAB schedules of the timer functions (Jobs__Reconciler__Schedule, Jobs__Retention__Schedule).')
param reconcilerSchedule string
param retentionSchedule string
@description('Log Analytics workspace that receives the function app\'s resource logs and metrics; empty sends none.')
param logAnalyticsWorkspaceId string = ''

// The Service Bus trigger's function name in src/functions/functionTable.ts. On Flex Consumption every function of a
// non-HTTP trigger scales on its own, and always-ready instances name it as `function:<name>`.
var serviceBusTriggerFunctionName = 'processJob'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd deploys the service named 'api' in azure.yaml to the resource carrying this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        // Scaled to zero, the app wakes for a message only when the platform's scale controller sees it, which can
        // take minutes; an always-ready instance takes it at once, and is billed while idle.
        alwaysReady: processJobAlwaysReadyInstances > 0
          ? [
              {
                name: 'function:${serviceBusTriggerFunctionName}'
                instanceCount: processJobAlwaysReadyInstances
              }
            ]
          : []
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }

  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      // Host storage by identity; no AzureWebJobsStorage connection string.
      AzureWebJobsStorage__accountName: hostStorageAccountName
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: identityClientId
      // Telemetry: the connection string names the ingestion endpoint only (local auth is off); the identity signs in.
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identityClientId}'
      // The Service Bus trigger (host) and the app's sender, both by identity.
      Jobs__UseServiceBus: 'true'
      ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
      ServiceBusConnection__credential: 'managedidentity'
      ServiceBusConnection__clientId: identityClientId
      // Also read by the host for the trigger's '%Jobs__ServiceBus__QueueName%'.
      Jobs__ServiceBus__QueueName: jobsQueueName
      // Job records (Table) and documents (Blob) on the data account, by identity. `credential: managedidentity`
      // makes the app sign in with ManagedIdentityCredential, as the host does for its own connections.
      Jobs__Store: 'table'
      JobsStorage__accountName: jobsStorageAccountName
      JobsStorage__credential: 'managedidentity'
      JobsStorage__clientId: identityClientId
      // The timers' '%Jobs__Reconciler__Schedule%' and '%Jobs__Retention__Schedule%', resolved by the host from app
      // settings only: without them the host cannot index the timer functions.
      Jobs__Reconciler__Schedule: reconcilerSchedule
      Jobs__Retention__Schedule: retentionSchedule
    }
  }
}

// Publishing with basic (username/password) credentials is off: azd and Core Tools publish with Entra tokens.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

// The host's FunctionAppLogs and the app's metrics, off unless a workspace is given
// (learn.microsoft.com/azure/azure-functions/monitor-functions-reference).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: functionApp
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

output name string = functionApp.name
output uri string = 'https://${functionApp.properties.defaultHostName}'
