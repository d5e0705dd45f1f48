// The one identity of the app: the host (AzureWebJobsStorage, deployment package, Service Bus trigger, telemetry)
// and the app's own clients (ServiceBusConnection__clientId, JobsStorage__clientId) all authenticate as it.
// User-assigned so role assignments exist before the function app does and survive its re-creation.
param name string
param location string
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
