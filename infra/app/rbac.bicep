// Least privilege for the app's identity: data-plane roles only, each on the narrowest scope the app uses. No
// control-plane role (Owner, Contributor, Storage Account Contributor) is granted, so the identity cannot read keys,
// change network rules or create entities. The one broad data role, Azure Service Bus Data Owner, sits on the jobs
// queue alone: the Functions scale controller needs Manage rights to read the queue's length (infra/README.md).
// Role definition ids are Microsoft's built-in ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
param principalId string
param hostStorageAccountName string
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

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageAccountName
}

resource jobsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: jobsStorageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Sender and Receiver stay beside Data Owner (whose rights include theirs): they name what the app's code and the
// trigger do, so taking the owner role away (a policy that forbids it) costs scaling speed, not processing.
// Submission sends jobs and retries schedule copies: scoped to the queue, not the namespace.
resource queueSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39')
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' // Azure Service Bus Data Sender
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The trigger receives and settles (complete, abandon; dead-letter in explicit mode) on the queue.
resource queueReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0')
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0' // Azure Service Bus Data Receiver
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Scaling: target-based scaling reads the queue's message count, which takes Manage rights; with Listen only the
// platform falls back to incremental scaling (learn.microsoft.com/azure/azure-functions/functions-target-based-scaling).
// Microsoft's table for identity-based Service Bus trigger connections lists Data Owner beside Data Receiver. On the
// queue, not the namespace: the owner rights reach this queue only, and no other entity in the namespace.
resource queueOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(queue.id, principalId, '090c5cfd-751d-490a-894a-3ce6f1109419')
  scope: queue
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '090c5cfd-751d-490a-894a-3ce6f1109419' // Azure Service Bus Data Owner
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// AzureWebJobsStorage by identity: host leases, function keys, and the Flex deployment package container.
resource hostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Documents: the app creates the staging and documents containers if missing, copies and deletes blobs.
resource jobsBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobsStorage.id, principalId, 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b')
  scope: jobsStorage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Job records: the app creates its table on first use, so the role sits on the account, not on the table.
resource jobsTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(jobsStorage.id, principalId, '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3')
  scope: jobsStorage
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry ingestion with Entra auth (the component has local auth off).
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, principalId, '3913510d-42f4-4e42-8a64-420c390055eb')
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
    )
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
