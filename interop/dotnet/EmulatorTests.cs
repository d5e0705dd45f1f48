using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// The bundled emulator through Microsoft's .NET client, one queue per test (declared by
/// test/interop/dotnetInterop.test.ts as <c>dotnet-&lt;name&gt;</c>). Counts follow the .NET convention: a
/// message's first delivery has <c>DeliveryCount</c> 1.
/// </summary>
public sealed class EmulatorTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ServiceBusClient client = new(
        InteropEnvironment.EmulatorConnectionString,
        new ServiceBusClientOptions { RetryOptions = new ServiceBusRetryOptions { MaxRetries = 1, TryTimeout = TimeSpan.FromSeconds(10) } });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await client.DisposeAsync();

    [Fact]
    public async Task SendsAndReceivesWithEveryPropertyKept()
    {
        await using var sender = client.CreateSender("dotnet-basic");
        var sent = new ServiceBusMessage(BinaryData.FromString("{\"hello\":\"world\"}"))
        {
            MessageId = "message-1",
            CorrelationId = "correlation-1",
            Subject = "subject-1",
            ContentType = "application/json",
            To = "to-1",
            ReplyTo = "reply-1",
            TimeToLive = TimeSpan.FromMinutes(5),
        };
        sent.ApplicationProperties["text"] = "a";
        sent.ApplicationProperties["int"] = 7;
        sent.ApplicationProperties["long"] = 1L << 40;
        sent.ApplicationProperties["bool"] = true;
        sent.ApplicationProperties["double"] = 2.5;
        sent.ApplicationProperties["guid"] = Guid.Parse("9a4f3c1e-2b7d-4e8f-a1c3-5d6e7f809a1b");
        sent.ApplicationProperties["time"] = new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);
        await sender.SendMessageAsync(sent);

        await using var receiver = client.CreateReceiver("dotnet-basic");
        var received = await receiver.ReceiveMessageAsync(Wait);

        Assert.NotNull(received);
        Assert.Equal("{\"hello\":\"world\"}", received.Body.ToString());
        Assert.Equal(("message-1", "correlation-1", "subject-1", "application/json", "to-1", "reply-1"),
            (received.MessageId, received.CorrelationId, received.Subject, received.ContentType, received.To, received.ReplyTo));
        Assert.Equal(TimeSpan.FromMinutes(5), received.TimeToLive);
        Assert.Equal("a", received.ApplicationProperties["text"]);
        Assert.Equal(7, received.ApplicationProperties["int"]);
        Assert.Equal(1L << 40, received.ApplicationProperties["long"]);
        Assert.Equal(true, received.ApplicationProperties["bool"]);
        Assert.Equal(2.5, received.ApplicationProperties["double"]);
        Assert.Equal(Guid.Parse("9a4f3c1e-2b7d-4e8f-a1c3-5d6e7f809a1b"), received.ApplicationProperties["guid"]);
        Assert.Equal(new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero), received.ApplicationProperties["time"]);
        Assert.Equal(1, received.DeliveryCount);
        Assert.True(received.SequenceNumber >= 1);
        Assert.True(received.LockedUntil > DateTimeOffset.UtcNow);
        Assert.True(received.EnqueuedTime > DateTimeOffset.UtcNow.AddMinutes(-1));
        Assert.Equal(ServiceBusMessageState.Active, received.State);

        await receiver.CompleteMessageAsync(received);
        Assert.Null(await receiver.PeekMessageAsync());
    }

    [Fact]
    public async Task SendsBatchesAndReportsTheBatchSizeLimit()
    {
        await using var sender = client.CreateSender("dotnet-batch");
        using var batch = await sender.CreateMessageBatchAsync();
        Assert.True(batch.MaxSizeInBytes > 0);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(batch.TryAddMessage(new ServiceBusMessage($"batch-{i}")));
        }

        Assert.False(batch.TryAddMessage(new ServiceBusMessage(new byte[batch.MaxSizeInBytes])));
        await sender.SendMessagesAsync(batch);
        await sender.SendMessagesAsync([new ServiceBusMessage("list-0"), new ServiceBusMessage("list-1")]);

        await using var receiver = client.CreateReceiver("dotnet-batch");
        var received = await ReceiveAll(receiver, 7);
        foreach (var message in received) await receiver.CompleteMessageAsync(message);

        Assert.Equal(
            ["batch-0", "batch-1", "batch-2", "batch-3", "batch-4", "list-0", "list-1"],
            received.Select(message => message.Body.ToString()));
        Assert.All(received, message => Assert.False(string.IsNullOrEmpty(message.MessageId)));
    }

    [Fact]
    public async Task ProcessorWithAutoCompleteOffSettlesOnlyWhatTheHandlerSettles()
    {
        const int count = 20;
        await SendBodies("dotnet-processor-manual", count);
        var seen = new ConcurrentDictionary<string, int>();
        var concurrent = 0;
        var mostAtOnce = 0;
        var allSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var processor = client.CreateProcessor(
            "dotnet-processor-manual",
            new ServiceBusProcessorOptions { AutoCompleteMessages = false, MaxConcurrentCalls = 4 });
        processor.ProcessMessageAsync += async args =>
        {
            var now = Interlocked.Increment(ref concurrent);
            InterlockedMax(ref mostAtOnce, now);
            try
            {
                // Held a little, so that the processor has the chance to run handlers side by side.
                await Task.Delay(50);
                var body = args.Message.Body.ToString();
                seen.AddOrUpdate(body, 1, (_, times) => times + 1);
                if (body == "message-0" && args.Message.DeliveryCount == 1)
                {
                    // Left unsettled: with auto-complete off the processor must not complete it on return, so
                    // it comes back when its lock runs out (the queue's LockDuration is 2 s).
                    return;
                }

                await args.CompleteMessageAsync(args.Message);
                if (seen.Count == count && seen["message-0"] == 2) allSeen.TrySetResult();
            }
            finally
            {
                Interlocked.Decrement(ref concurrent);
            }
        };
        processor.ProcessErrorAsync += args =>
        {
            allSeen.TrySetException(args.Exception);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await allSeen.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await processor.StopProcessingAsync();

        Assert.Equal(count, seen.Count);
        Assert.All(seen.Where(entry => entry.Key != "message-0"), entry => Assert.Equal(1, entry.Value));
        Assert.Equal(2, seen["message-0"]);
        Assert.InRange(mostAtOnce, 2, 4);
        await AssertEmpty("dotnet-processor-manual");
    }

    [Fact]
    public async Task ProcessorWithAutoCompleteOnCompletesOnReturnAndAbandonsOnThrow()
    {
        const int count = 10;
        await SendBodies("dotnet-processor-auto", count);
        var deliveries = new ConcurrentBag<(string Body, int DeliveryCount)>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var processor = client.CreateProcessor(
            "dotnet-processor-auto",
            new ServiceBusProcessorOptions { AutoCompleteMessages = true, MaxConcurrentCalls = 2 });
        processor.ProcessMessageAsync += args =>
        {
            var body = args.Message.Body.ToString();
            deliveries.Add((body, args.Message.DeliveryCount));
            if (body == "message-3" && args.Message.DeliveryCount == 1) throw new InvalidOperationException("first try fails");
            if (deliveries.Count == count + 1) done.TrySetResult();
            return Task.CompletedTask;
        };
        var handlerErrors = new ConcurrentBag<ServiceBusErrorSource>();
        processor.ProcessErrorAsync += args =>
        {
            handlerErrors.Add(args.ErrorSource);
            return Task.CompletedTask;
        };

        await processor.StartProcessingAsync();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await processor.StopProcessingAsync();

        Assert.Equal(
            [("message-3", 1), ("message-3", 2)],
            deliveries.Where(delivery => delivery.Body == "message-3").OrderBy(delivery => delivery.DeliveryCount));
        Assert.Equal(count + 1, deliveries.Count);
        Assert.Equal([ServiceBusErrorSource.ProcessMessageCallback], handlerErrors);
        await AssertEmpty("dotnet-processor-auto");
    }

    [Fact]
    public async Task AbandonsWithModifiedPropertiesAndCountsTheDelivery()
    {
        await SendBodies("dotnet-abandon", 1);
        await using var receiver = client.CreateReceiver("dotnet-abandon");

        var first = await receiver.ReceiveMessageAsync(Wait);
        await receiver.AbandonMessageAsync(first, new Dictionary<string, object> { ["reason"] = "try again" });
        var second = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal((1, 2), (first.DeliveryCount, second.DeliveryCount));
        Assert.Equal(first.SequenceNumber, second.SequenceNumber);
        Assert.Equal("try again", second.ApplicationProperties["reason"]);
        await receiver.CompleteMessageAsync(second);
    }

    [Fact]
    public async Task DeadLettersWithReasonAndDescriptionIntoTheSubQueue()
    {
        await SendBodies("dotnet-deadletter", 1);
        await using var receiver = client.CreateReceiver("dotnet-deadletter");
        var message = await receiver.ReceiveMessageAsync(Wait);

        await receiver.DeadLetterMessageAsync(message, "Poisoned", "the handler refused it");

        await using var deadLetters = client.CreateReceiver(
            "dotnet-deadletter",
            new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        var deadLettered = await deadLetters.ReceiveMessageAsync(Wait);
        Assert.NotNull(deadLettered);
        Assert.Equal("message-0", deadLettered.Body.ToString());
        Assert.Equal(message.MessageId, deadLettered.MessageId);
        Assert.Equal("Poisoned", deadLettered.DeadLetterReason);
        Assert.Equal("the handler refused it", deadLettered.DeadLetterErrorDescription);
        await deadLetters.CompleteMessageAsync(deadLettered);
        Assert.Null(await deadLetters.PeekMessageAsync());
        Assert.Null(await receiver.PeekMessageAsync());
    }

    [Fact]
    public async Task DefersAndReceivesTheDeferredMessageBySequenceNumber()
    {
        await SendBodies("dotnet-defer", 1);
        await using var receiver = client.CreateReceiver("dotnet-defer");
        var message = await receiver.ReceiveMessageAsync(Wait);

        await receiver.DeferMessageAsync(message);

        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(1)));
        var peeked = await receiver.PeekMessageAsync(message.SequenceNumber);
        Assert.Equal(ServiceBusMessageState.Deferred, peeked.State);
        var deferred = await receiver.ReceiveDeferredMessageAsync(message.SequenceNumber);
        Assert.Equal("message-0", deferred.Body.ToString());
        Assert.Equal(ServiceBusMessageState.Deferred, deferred.State);
        await receiver.CompleteMessageAsync(deferred);
        Assert.Null(await receiver.PeekMessageAsync());
    }

    [Fact]
    public async Task SchedulesAndCancelsMessages()
    {
        await using var sender = client.CreateSender("dotnet-schedule");
        var due = DateTimeOffset.UtcNow.AddSeconds(2);
        var kept = await sender.ScheduleMessageAsync(new ServiceBusMessage("kept"), due);
        var cancelled = await sender.ScheduleMessageAsync(new ServiceBusMessage("cancelled"), due);

        await sender.CancelScheduledMessageAsync(cancelled);

        await using var receiver = client.CreateReceiver("dotnet-schedule");
        var peeked = await receiver.PeekMessagesAsync(10);
        Assert.Equal([("kept", ServiceBusMessageState.Scheduled)], peeked.Select(message => (message.Body.ToString(), message.State)));
        Assert.Equal(kept, peeked[0].SequenceNumber);
        Assert.Equal(due.ToUnixTimeSeconds(), peeked[0].ScheduledEnqueueTime.ToUnixTimeSeconds());
        var received = await receiver.ReceiveMessageAsync(Wait);
        Assert.Equal("kept", received.Body.ToString());
        Assert.True(DateTimeOffset.UtcNow >= due.AddMilliseconds(-50));
        await receiver.CompleteMessageAsync(received);
        Assert.Null(await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task PeeksWithoutLockingOrCounting()
    {
        await SendBodies("dotnet-peek", 3);
        await using var receiver = client.CreateReceiver("dotnet-peek");

        var firstTwo = await receiver.PeekMessagesAsync(2);
        var fromThird = await receiver.PeekMessagesAsync(5, firstTwo[1].SequenceNumber + 1);

        Assert.Equal(["message-0", "message-1"], firstTwo.Select(message => message.Body.ToString()));
        Assert.Equal(["message-2"], fromThird.Select(message => message.Body.ToString()));
        Assert.All(firstTwo, message => Assert.Equal(0, message.DeliveryCount));
        var received = await ReceiveAll(receiver, 3);
        Assert.Equal(["message-0", "message-1", "message-2"], received.Select(message => message.Body.ToString()));
        Assert.All(received, message => Assert.Equal(1, message.DeliveryCount));
    }

    [Fact]
    public async Task RenewsALockToALaterTime()
    {
        await SendBodies("dotnet-renew", 1);
        await using var receiver = client.CreateReceiver("dotnet-renew");
        var message = await receiver.ReceiveMessageAsync(Wait);
        var lockedUntil = message.LockedUntil;

        // The renewed lock runs for the queue's LockDuration from the renewal, so it is later only once time has
        // passed since the receive.
        await Task.Delay(1100);
        await receiver.RenewMessageLockAsync(message);

        Assert.True(message.LockedUntil > lockedUntil, $"{message.LockedUntil:O} is not after {lockedUntil:O}");
        await receiver.CompleteMessageAsync(message);
    }

    [Fact]
    public async Task ReceivesAndDeletes()
    {
        await SendBodies("dotnet-delete", 1);
        await using var receiver = client.CreateReceiver(
            "dotnet-delete",
            new ServiceBusReceiverOptions { ReceiveMode = ServiceBusReceiveMode.ReceiveAndDelete });

        var message = await receiver.ReceiveMessageAsync(Wait);

        Assert.Equal("message-0", message.Body.ToString());
        Assert.Null(await receiver.PeekMessageAsync());
    }

    [Fact]
    public async Task RefusesAnEntityThatDoesNotExistWithMessagingEntityNotFound()
    {
        await using var sender = client.CreateSender("dotnet-no-such-queue");

        var error = await Assert.ThrowsAsync<ServiceBusException>(() => sender.SendMessageAsync(new ServiceBusMessage("lost")));

        Assert.Equal(ServiceBusFailureReason.MessagingEntityNotFound, error.Reason);
    }

    private async Task SendBodies(string queue, int count)
    {
        await using var sender = client.CreateSender(queue);
        await sender.SendMessagesAsync(Enumerable.Range(0, count).Select(i => new ServiceBusMessage($"message-{i}")));
    }

    /// <summary>Receives until <paramref name="count"/> messages have come; fails when a receive comes back empty.</summary>
    private static async Task<List<ServiceBusReceivedMessage>> ReceiveAll(ServiceBusReceiver receiver, int count)
    {
        var received = new List<ServiceBusReceivedMessage>();
        while (received.Count < count)
        {
            var messages = await receiver.ReceiveMessagesAsync(count - received.Count, Wait);
            Assert.NotEmpty(messages);
            received.AddRange(messages);
        }

        return received;
    }

    private async Task AssertEmpty(string queue)
    {
        await using var receiver = client.CreateReceiver(queue);
        Assert.Null(await receiver.PeekMessageAsync());
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
