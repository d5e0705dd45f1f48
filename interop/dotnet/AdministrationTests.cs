using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// The administration client (the management REST API over HTTP) is not emulated: a call must fail at once with
/// the emulator's reason, not as a network fault after retries or as an entity that does not exist.
/// </summary>
public sealed class AdministrationTests
{
    [Fact]
    public async Task RefusesTheAdministrationClientWithAClearError()
    {
        var admin = new ServiceBusAdministrationClient(
            InteropEnvironment.EmulatorConnectionString,
            new ServiceBusAdministrationClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(10) } });

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => admin.GetQueueRuntimePropertiesAsync("dotnet-basic"));

        Assert.Contains("501", error.Message);
        Assert.Contains("not the administration (management REST) API", error.Message);
        Assert.NotEqual(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
    }
}
