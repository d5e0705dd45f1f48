// The Service Bus namespace and the jobs queue, configured for this app's retry, lock-renewal and idempotency
// settings (host.json and src/config.ts). infra/README.md has the same values in a table.
param name string
param location string
param tags object = {}
param queueName string
@description('Log Analytics workspace that receives the namespace\'s resource logs and metrics; empty sends none.')
param logAnalyticsWorkspaceId string = ''

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: name
  location: location
  tags: tags
  // Duplicate detection and scheduled messages (the app's delayed retries) need Standard or above; Basic has neither.
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    // SAS keys off: only Entra identities with a data role can send or receive.
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: queueName
  properties: {
    // ADR-004 amendment: MessageId = idempotency key, so the broker drops a resend of the same job within the window.
    // It can only be set when the queue is created. The app's own idempotency (the job record keyed by the key)
    // holds beyond the window; the window only catches producers that resend quickly (a timed-out HTTP call).
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT10M'
    // The lock the host renews while a job runs: host.json maxAutoLockRenewalDuration (00:05:00) is above
    // Jobs__HandlerTimeoutMs (4 min), so a running job keeps its lock. One minute keeps the redelivery of a message
    // whose worker died (no more renewals) short, while leaving plenty of room between renewals.
    lockDuration: 'PT1M'
    // Delayed retries are scheduled copies, not redeliveries, so Jobs__DefaultMaxAttempts does not spend deliveries.
    // Deliveries are spent by abandons for infrastructure faults (store or queue unreachable, each already retried by
    // the storage client) and, in host settlement, by a dead-letter decision: the function then fails fast on every
    // delivery until this count moves the message to the dead-letter sub-queue. An abandoned message comes back at
    // once, so the count is a budget of quick retries, not of time: 10 absorbs short blips, and keeps a decided
    // dead-letter to ten fast no-op deliveries instead of hundreds. A job the broker dead-letters during a long outage
    // keeps its record and its message in the dead-letter sub-queue, from where it can be resubmitted.
    maxDeliveryCount: 10
    // Jobs nobody processed within two weeks go to the dead-letter sub-queue instead of vanishing.
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    requiresSession: false
    enablePartitioning: false
    maxSizeInMegabytes: 1024
  }
}

// Operational logs (entity create, update, delete; failed authorizations with runtime audit logs on Premium) and all
// metrics, off unless a workspace is given (learn.microsoft.com/azure/service-bus-messaging/monitor-service-bus-reference).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(logAnalyticsWorkspaceId)) {
  name: 'to-log-analytics'
  scope: namespace
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

output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output queueName string = queue.name
