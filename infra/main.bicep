// sdap-jobs on Azure: a Flex Consumption function app (Node 22) that reaches Service Bus, Storage and Application
// Insights with one user-assigned managed identity. No keys or connection strings with secrets anywhere: every
// data-plane call is authorized by a role assignment in app/rbac.bicep.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; it seeds the unique suffix of every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Optional name overrides; empty means a generated name.')
param resourceGroupName string = ''
param functionAppName string = ''
param appServicePlanName string = ''
param userAssignedIdentityName string = ''
param hostStorageAccountName string = ''
param jobsStorageAccountName string = ''
param serviceBusNamespaceName string = ''
param logAnalyticsName string = ''
param applicationInsightsName string = ''

@description('Upper bound on Flex Consumption instances; each runs up to host.json maxConcurrentCalls jobs.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Optional: the Entra object id of an operator (a user, group or service principal) to be granted what `npm run dlq` needs against this deployment: receive and send on the jobs queue (its dead-letter sub-queue included), read and write job records, publish telemetry. Empty grants nothing.')
param operatorPrincipalId string = ''

@description('What operatorPrincipalId is: User, Group or ServicePrincipal.')
@allowed(['User', 'Group', 'ServicePrincipal'])
param operatorPrincipalType string = 'User'

@description('Always-ready instances for the Service Bus trigger (processJob). 0 lets it scale to zero: then the first message after a quiet spell can wait minutes for an instance. Each one is billed while idle.')
@minValue(0)
@maxValue(1000)
param processJobAlwaysReadyInstances int = 0

@description('NCRONTAB (six fields, UTC) of the reconciler timer: the app setting Jobs__Reconciler__Schedule. Each run wakes an instance of its own on Flex Consumption.')
param reconcilerSchedule string = '0 */1 * * * *'

@description('NCRONTAB (six fields, UTC) of the retention timer (purgeFinishedJobs): the app setting Jobs__Retention__Schedule.')
param retentionSchedule string = '0 17 * * * *'

@description('Sends the resource logs and metrics of the Service Bus namespace, the function app and both storage accounts to the Log Analytics workspace. Billed by ingested volume.')
param enableDiagnostics bool = false

@description('Metric alerts (a dead-lettered job, a queue backlog, failing functions) and the action group they notify.')
param enableAlerts bool = false

@description('With enableAlerts: the e-mail address the action group notifies. Empty creates the action group without a receiver.')
param alertEmailAddress string = ''

@description('With enableAlerts: active messages the queue may hold for 15 minutes on end before the backlog alert fires.')
@minValue(1)
param queueBacklogAlertThreshold int = 1000

@description('With enableAlerts: failed function executions in 15 minutes above which the failure alert fires.')
@minValue(0)
param functionFailuresAlertThreshold int = 10

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }
var appName = !empty(functionAppName) ? functionAppName : 'func-sdap-jobs-${resourceToken}'
// The app's default queue (Jobs__ServiceBus__QueueName in src/config.ts) and the local emulators' queue. The app
// setting is set from this value too, because the trigger's '%Jobs__ServiceBus__QueueName%' is resolved by the host
// from app settings only and never sees the app's own default.
var jobsQueueName = 'sdap-jobs'
// Diagnostic settings of every resource that has them go to the one workspace, or nowhere when they are off.
var logAnalyticsWorkspaceId = enableDiagnostics ? monitoring.outputs.logAnalyticsWorkspaceId : ''
// Flex Consumption reads the deployment package from this container with the app's identity.
var deploymentContainerName = 'app-package-${toLower(take(appName, 32))}-${take(toLower(uniqueString(appName, resourceToken)), 7)}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: !empty(userAssignedIdentityName) ? userAssignedIdentityName : 'id-sdap-jobs-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: !empty(logAnalyticsName) ? logAnalyticsName : 'log-${resourceToken}'
    applicationInsightsName: !empty(applicationInsightsName) ? applicationInsightsName : 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

// Two accounts: the host's (deployment packages, function keys, host leases) and the app's data (job records,
// documents). Data outlives the app and gets its own protection (soft delete) and network rules; the table role is
// granted on the data account only.
module hostStorage 'app/storage.bicep' = {
  name: 'hostStorage'
  scope: rg
  params: {
    name: !empty(hostStorageAccountName) ? hostStorageAccountName : 'stfunc${resourceToken}'
    location: location
    tags: tags
    containers: [deploymentContainerName]
    tables: []
    // Metrics only: the host's reads and writes are mostly lease renewals, many a minute and of no use in a log.
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    resourceLogs: false
  }
}

module jobsStorage 'app/storage.bicep' = {
  name: 'jobsStorage'
  scope: rg
  params: {
    name: !empty(jobsStorageAccountName) ? jobsStorageAccountName : 'stjobs${resourceToken}'
    location: location
    tags: tags
    // The app's defaults: Jobs__Documents__StagingContainer, Jobs__Documents__Container, Jobs__Storage__JobsTable.
    // The app creates them on first use too; declaring them keeps the data layout in one reviewed place.
    containers: ['staging', 'documents']
    tables: ['JobRecords']
    deleteRetentionDays: 7
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
    resourceLogs: true
  }
}

module serviceBus 'app/serviceBus.bicep' = {
  name: 'serviceBus'
  scope: rg
  params: {
    name: !empty(serviceBusNamespaceName) ? serviceBusNamespaceName : 'sb-sdap-jobs-${resourceToken}'
    location: location
    tags: tags
    queueName: jobsQueueName
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
  }
}

module api 'app/api.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: appName
    planName: !empty(appServicePlanName) ? appServicePlanName : 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostStorageAccountName: hostStorage.outputs.name
    deploymentContainerUrl: '${hostStorage.outputs.blobEndpoint}${deploymentContainerName}'
    jobsStorageAccountName: jobsStorage.outputs.name
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    jobsQueueName: jobsQueueName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    processJobAlwaysReadyInstances: processJobAlwaysReadyInstances
    reconcilerSchedule: reconcilerSchedule
    retentionSchedule: retentionSchedule
    logAnalyticsWorkspaceId: logAnalyticsWorkspaceId
  }
  // The host starts with the app's settings as soon as the site exists; without its roles it would fail to reach
  // storage and Service Bus until they propagate.
  dependsOn: [rbac]
}

module rbac 'app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    hostStorageAccountName: hostStorage.outputs.name
    jobsStorageAccountName: jobsStorage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    queueName: serviceBus.outputs.queueName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

// SAS and shared keys are off: an operator reaches the queue and the job records only through these role assignments.
module operatorRbac 'app/operatorRbac.bicep' = if (!empty(operatorPrincipalId)) {
  name: 'operatorRbac'
  scope: rg
  params: {
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
    jobsStorageAccountName: jobsStorage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    queueName: serviceBus.outputs.queueName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module alerts 'app/alerts.bicep' = if (enableAlerts) {
  name: 'alerts'
  scope: rg
  params: {
    actionGroupName: 'ag-sdap-jobs-${resourceToken}'
    alertEmailAddress: alertEmailAddress
    serviceBusNamespaceName: serviceBus.outputs.name
    queueName: serviceBus.outputs.queueName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    queueBacklogThreshold: queueBacklogAlertThreshold
    functionFailuresThreshold: functionFailuresAlertThreshold
    tags: tags
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = api.outputs.name
output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output JOBS_API_URL string = '${api.outputs.uri}/api/jobs'
output SERVICEBUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICEBUS_QUEUE_NAME string = serviceBus.outputs.queueName
output JOBS_STORAGE_ACCOUNT_NAME string = jobsStorage.outputs.name
