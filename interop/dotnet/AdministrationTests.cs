using Azure;
using Azure.Messaging.ServiceBus;
using Azure.Messaging.ServiceBus.Administration;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// The emulator's administration API through .NET's <c>ServiceBusAdministrationClient</c>, which with
/// <c>UseDevelopmentEmulator=true</c> speaks HTTP to the endpoint's port: queues created, read, updated, listed and
/// deleted; their runtime counts; the namespace; and a clear refusal for topics.
/// </summary>
public sealed class AdministrationTests : IAsyncLifetime
{
    private readonly ServiceBusAdministrationClient admin = new(
        InteropEnvironment.EmulatorConnectionString,
        new ServiceBusAdministrationClientOptions { Retry = { MaxRetries = 0, NetworkTimeout = TimeSpan.FromSeconds(10) } });

    private readonly ServiceBusClient client = new(InteropEnvironment.EmulatorConnectionString);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await client.DisposeAsync();

    [Fact]
    public async Task ReadsTheNamespace()
    {
        NamespaceProperties properties = await admin.GetNamespacePropertiesAsync();

        Assert.Equal("sbemulatorns", properties.Name);
        Assert.Equal(MessagingSku.Standard, properties.MessagingSku);
    }

    [Fact]
    public async Task CreatesAQueueThatBehavesAsConfigured()
    {
        var options = new CreateQueueOptions("dotnet-admin-created")
        {
            LockDuration = TimeSpan.FromSeconds(10),
            MaxDeliveryCount = 2,
            RequiresDuplicateDetection = true,
            DuplicateDetectionHistoryTimeWindow = TimeSpan.FromMinutes(2),
            DeadLetteringOnMessageExpiration = true,
        };

        QueueProperties created = await admin.CreateQueueAsync(options);
        QueueProperties read = await admin.GetQueueAsync("dotnet-admin-created");

        foreach (var properties in new[] { created, read })
        {
            Assert.Equal("dotnet-admin-created", properties.Name);
            Assert.Equal(TimeSpan.FromSeconds(10), properties.LockDuration);
            Assert.Equal(2, properties.MaxDeliveryCount);
            Assert.True(properties.RequiresDuplicateDetection);
            Assert.Equal(TimeSpan.FromMinutes(2), properties.DuplicateDetectionHistoryTimeWindow);
            Assert.True(properties.DeadLetteringOnMessageExpiration);
            Assert.False(properties.RequiresSession);
            Assert.Equal(EntityStatus.Active, properties.Status);
        }

        Assert.True(await admin.QueueExistsAsync("dotnet-admin-created"));

        // Over AMQP it is a queue like a configured one: duplicate detection drops the repeat, and the second
        // failed delivery (MaxDeliveryCount 2) moves the message to the dead-letter sub-queue.
        await using var sender = client.CreateSender("dotnet-admin-created");
        await sender.SendMessageAsync(new ServiceBusMessage("once") { MessageId = "same" });
        await sender.SendMessageAsync(new ServiceBusMessage("twice") { MessageId = "same" });
        await using var receiver = client.CreateReceiver("dotnet-admin-created");
        for (var delivery = 1; delivery <= 2; delivery++)
        {
            var message = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(("once", delivery), (message.Body.ToString(), message.DeliveryCount));
            await receiver.AbandonMessageAsync(message);
        }

        await using var deadLetters = client.CreateReceiver(
            "dotnet-admin-created",
            new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var deadLettered = await deadLetters.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("MaxDeliveryCountExceeded", deadLettered.DeadLetterReason);
        Assert.Null(await receiver.PeekMessageAsync());
    }

    [Fact]
    public async Task RefusesToCreateAQueueThatExists()
    {
        await admin.CreateQueueAsync("dotnet-admin-twice");

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => admin.CreateQueueAsync("dotnet-admin-twice"));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityAlreadyExists, error.Reason);
    }

    [Fact]
    public async Task UpdatesAQueue()
    {
        QueueProperties queue = await admin.CreateQueueAsync("dotnet-admin-updated");
        queue.MaxDeliveryCount = 7;
        queue.LockDuration = TimeSpan.FromSeconds(45);

        QueueProperties updated = await admin.UpdateQueueAsync(queue);

        Assert.Equal((7, TimeSpan.FromSeconds(45)), (updated.MaxDeliveryCount, updated.LockDuration));
        QueueProperties read = await admin.GetQueueAsync("dotnet-admin-updated");
        Assert.Equal((7, TimeSpan.FromSeconds(45)), (read.MaxDeliveryCount, read.LockDuration));
    }

    [Fact]
    public async Task ListsQueuesPageByPage()
    {
        var names = new List<string>();
        await foreach (QueueProperties queue in admin.GetQueuesAsync())
        {
            names.Add(queue.Name);
        }

        Assert.Contains("dotnet-basic", names);
        Assert.Contains("dotnet-admin-counts", names);
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    [Fact]
    public async Task CountsActiveScheduledAndDeadLetteredMessages()
    {
        await using var sender = client.CreateSender("dotnet-admin-counts");
        await sender.SendMessagesAsync([new ServiceBusMessage("a"), new ServiceBusMessage("b"), new ServiceBusMessage("c")]);
        await sender.ScheduleMessageAsync(new ServiceBusMessage("later"), DateTimeOffset.UtcNow.AddHours(1));
        await using var receiver = client.CreateReceiver("dotnet-admin-counts");
        var poison = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(10));
        await receiver.DeadLetterMessageAsync(poison, "Poisoned", "for the count");

        QueueRuntimeProperties counts = await admin.GetQueueRuntimePropertiesAsync("dotnet-admin-counts");

        Assert.Equal(
            (2L, 1L, 1L, 4L),
            (counts.ActiveMessageCount, counts.ScheduledMessageCount, counts.DeadLetterMessageCount, counts.TotalMessageCount));
        Assert.True(counts.SizeInBytes > 0);
        Assert.Equal("dotnet-admin-counts", counts.Name);
    }

    [Fact]
    public async Task DeletesAQueue()
    {
        await admin.CreateQueueAsync("dotnet-admin-deleted");

        await admin.DeleteQueueAsync("dotnet-admin-deleted");

        Assert.False(await admin.QueueExistsAsync("dotnet-admin-deleted"));
        var error = await Assert.ThrowsAsync<ServiceBusException>(() => admin.GetQueueAsync("dotnet-admin-deleted"));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
        await using var sender = client.CreateSender("dotnet-admin-deleted");
        var gone = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("lost")));
        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, gone.Reason);
    }

    [Fact]
    public async Task RefusesTopicsWithAClearError()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => admin.CreateTopicAsync("dotnet-admin-topic"));

        Assert.Contains("501", error.Message);
        Assert.Contains("topics, subscriptions and rules are not implemented", error.Message);
    }
}
