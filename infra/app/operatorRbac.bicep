// What `npm run dlq` needs when an operator runs it against Azure (Jobs__UseServiceBus=true, signed in with
// `az login`): SAS and shared keys are off, so these role assignments are the operator's only way in. The CLI builds
// the app's runtime in-process (tools/dlq/main.ts, src/runtime.ts) and uses exactly these data-plane calls:
// - the dead-letter sub-queue (`<queue>/$DeadLetterQueue`): peek, receive in peek-lock, complete, abandon;
// - the queue: send the replayed job;
// - the job records table: create the table if missing, read, insert, merge and upsert entities (one record per job
//   plus its listing index entry).
// It makes no Blob call, needs no management rights, and grants nothing at namespace or subscription scope.
param principalId string
@allowed(['User', 'Group', 'ServicePrincipal'])
param principalType string
param jobsStorageAccountName string
param serviceBusNamespaceName string
param queueName string
param applicationInsightsName string

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' existing = {
  parent: serviceBusNamespace
  name: queueName
}

resource jobsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: jobsStorageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Listing, replaying and discarding read and settle messages of the dead-letter sub-queue, which belongs to the queue.
resource operatorQueueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
    )
    principalId: principalId
    principalType: principalType
  }
}

// A replay sends the job to the queue again.
resource operatorQueueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
    )
    principalId: principalId
    principalType: principalType
  }
}

// Replays and discards are recorded on the job's record; the store creates its table on first use, so the role sits
// on the jobs account (as the app's does), never on the host's.
resource operatorTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobsStorage.id, principalId, '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
  scope: jobsStorage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
    )
    principalId: principalId
    principalType: principalType
  }
}

// Only used when the operator sets APPLICATIONINSIGHTS_CONNECTION_STRING (with APPLICATIONINSIGHTS_AUTHENTICATION_STRING
// 'Authorization=AAD'): the CLI's JobReplayed and JobDiscarded events then reach the app's Application Insights, in
// the trace of the job they concern. Publishing only; reading telemetry takes a separate reader role.
resource operatorTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
    )
    principalId: principalId
    principalType: principalType
  }
}
