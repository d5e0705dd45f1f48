// Metric alerts on what an operator must act on, and the action group that tells them: a job in the dead-letter
// sub-queue, a backlog that does not drain, functions that fail. Deployed only when main.bicep's enableAlerts is on.
// Metric names: learn.microsoft.com/azure/azure-monitor/reference/supported-metrics/microsoft-servicebus-namespaces-metrics
// and .../microsoft-insights-components-metrics (infra/README.md, Sources).
param actionGroupName string
@description('Receives the alerts by e-mail; empty creates the action group without a receiver (add one in the portal).')
param alertEmailAddress string
param serviceBusNamespaceName string
param queueName string
param applicationInsightsName string
@description('Active messages the queue may hold for 15 minutes on end before the backlog alert fires.')
@minValue(1)
param queueBacklogThreshold int
@description('Failed function executions (requests in Application Insights) in 15 minutes above which the alert fires.')
@minValue(0)
param functionFailuresThreshold int
param tags object = {}

resource serviceBusNamespace 'Microsoft.ServiceBus/namespaces@2024-01-01' existing = {
  name: serviceBusNamespaceName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'sdap-jobs'
    enabled: true
    emailReceivers: empty(alertEmailAddress)
      ? []
      : [
          {
            name: 'operators'
            emailAddress: alertEmailAddress
            useCommonAlertSchema: true
          }
        ]
  }
}

var actions = [
  {
    actionGroupId: actionGroup.id
  }
]

// Service Bus metrics of one queue carry its name in the EntityName dimension.
var onTheQueue = [
  {
    name: 'EntityName'
    operator: 'Include'
    values: [queueName]
  }
]

// Every dead-lettered job waits for an operator (replay or discard: npm run dlq), so one is enough to tell.
resource deadLettered 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'Jobs dead-lettered (${queueName})'
  location: 'global'
  tags: tags
  properties: {
    description: 'The jobs queue holds dead-lettered messages: list them with npm run dlq -- list, then replay or discard.'
    severity: 2
    enabled: true
    scopes: [serviceBusNamespace.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadletteredMessages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: onTheQueue
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: actions
  }
}

// Service Bus has no metric for the age of the oldest message; a backlog that stays above the threshold for the whole
// window (its minimum over 15 minutes) is the sign that jobs wait: the app is down, scaled out to its maximum, or slow.
resource backlog 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'Jobs backlog (${queueName})'
  location: 'global'
  tags: tags
  properties: {
    description: 'The jobs queue held more than ${queueBacklogThreshold} active messages for 15 minutes on end.'
    severity: 2
    enabled: true
    scopes: [serviceBusNamespace.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'ActiveMessages'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'ActiveMessages'
          dimensions: onTheQueue
          operator: 'GreaterThan'
          threshold: queueBacklogThreshold
          timeAggregation: 'Minimum'
        }
      ]
    }
    actions: actions
  }
}

// The host records every function execution as a request in Application Insights, failed when the function throws:
// HTTP 5xx answers, and Service Bus deliveries given back (a store or broker outage, or in host settlement a
// dead-letter decision failing fast until the broker dead-letters the message).
resource functionFailures 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'Function failures (${applicationInsightsName})'
  location: 'global'
  tags: tags
  properties: {
    description: 'More than ${functionFailuresThreshold} function executions failed in 15 minutes (Application Insights: failed requests).'
    severity: 2
    enabled: true
    scopes: [applicationInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'FailedRequests'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          operator: 'GreaterThan'
          threshold: functionFailuresThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    actions: actions
  }
}
