using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// Message sessions on the bundled emulator through Microsoft's .NET client, one session-enabled queue per test
/// (declared by test/interop/dotnetSessions.test.ts as <c>dotnet-session-&lt;name&gt;</c>). Counts follow the .NET
/// convention: a message's first delivery has <c>DeliveryCount</c> 1.
/// </summary>
public sealed class SessionTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);

    private readonly ServiceBusClient client = new(
        InteropEnvironment.EmulatorConnectionString,
        new ServiceBusClientOptions { RetryOptions = new ServiceBusRetryOptions { MaxRetries = 0, TryTimeout = TimeSpan.FromSeconds(3) } });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await client.DisposeAsync();

    [Fact]
    public async Task AcceptsASessionAndReceivesItsMessagesInOrderWithStateAndLockRenewal()
    {
        await using var sender = client.CreateSender("dotnet-session-basic");
        await sender.SendMessagesAsync(new[]
        {
            new ServiceBusMessage("a1") { SessionId = "a" },
            new ServiceBusMessage("b1") { SessionId = "b" },
            new ServiceBusMessage("a2") { SessionId = "a" },
            new ServiceBusMessage("a3") { SessionId = "a" },
        });
        var started = DateTimeOffset.UtcNow;

        await using var receiver = await client.AcceptSessionAsync("dotnet-session-basic", "a");
        var initialState = await receiver.GetSessionStateAsync();
        await receiver.SetSessionStateAsync(BinaryData.FromString("working"));
        var state = await receiver.GetSessionStateAsync();
        var received = new List<ServiceBusReceivedMessage>();
        while (received.Count < 3 && await receiver.ReceiveMessagesAsync(3 - received.Count, Wait) is { Count: > 0 } batch)
            received.AddRange(batch);
        var lockedUntil = receiver.SessionLockedUntil;
        await Task.Delay(200);
        await receiver.RenewSessionLockAsync();
        foreach (var message in received) await receiver.CompleteMessageAsync(message);
        var left = await receiver.PeekMessagesAsync(10, fromSequenceNumber: 1);

        Assert.Equal("a", receiver.SessionId);
        Assert.True(lockedUntil >= started.AddSeconds(55), $"session locked until {lockedUntil:o}");
        Assert.True(receiver.SessionLockedUntil > lockedUntil, "the renewal moves the session lock");
        Assert.Null(initialState);
        Assert.Equal("working", state.ToString());
        Assert.Equal(new[] { "a1", "a2", "a3" }, received.Select(message => message.Body.ToString()));
        Assert.All(received, message => Assert.Equal("a", message.SessionId));
        Assert.Empty(left);
    }

    [Fact]
    public async Task GivesTheNextSessionOnceAndTimesOutWhenNoneIsFree()
    {
        await using var sender = client.CreateSender("dotnet-session-next");
        await sender.SendMessageAsync(new ServiceBusMessage("older") { SessionId = "older" });
        await sender.SendMessageAsync(new ServiceBusMessage("newer") { SessionId = "newer" });

        await using var first = await client.AcceptNextSessionAsync("dotnet-session-next");
        await using var second = await client.AcceptNextSessionAsync("dotnet-session-next");
        var locked = await Assert.ThrowsAsync<ServiceBusException>(
            () => client.AcceptSessionAsync("dotnet-session-next", "older"));
        var none = await Assert.ThrowsAsync<ServiceBusException>(
            () => client.AcceptNextSessionAsync("dotnet-session-next"));
        var fromFirst = await first.ReceiveMessageAsync(Wait);
        await first.CompleteMessageAsync(fromFirst);
        var fromSecond = await second.ReceiveMessageAsync(Wait);
        await second.CompleteMessageAsync(fromSecond);

        Assert.Equal(("older", "newer"), (first.SessionId, second.SessionId));
        Assert.Equal(("older", "newer"), (fromFirst.Body.ToString(), fromSecond.Body.ToString()));
        Assert.Equal(ServiceBusFailureReason.SessionCannotBeLocked, locked.Reason);
        Assert.Equal(ServiceBusFailureReason.ServiceTimeout, none.Reason);
    }

    [Fact]
    public async Task RefusesAMessageWithoutSessionId()
    {
        await using var sender = client.CreateSender("dotnet-session-refuse");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => sender.SendMessageAsync(new ServiceBusMessage("no session")));

        Assert.Contains("The SessionId was not set on a message", error.Message);
    }

    [Fact]
    public async Task DefersWithinASessionAndReceivesTheDeferredMessageBySequenceNumber()
    {
        await using var sender = client.CreateSender("dotnet-session-defer");
        await sender.SendMessageAsync(new ServiceBusMessage("later") { SessionId = "d" });

        await using var receiver = await client.AcceptSessionAsync("dotnet-session-defer", "d");
        var received = await receiver.ReceiveMessageAsync(Wait);
        await receiver.DeferMessageAsync(received);
        var deferred = await receiver.ReceiveDeferredMessageAsync(received.SequenceNumber);
        await receiver.CompleteMessageAsync(deferred);

        Assert.Equal("later", deferred.Body.ToString());
        Assert.Equal((1, 2), (received.DeliveryCount, deferred.DeliveryCount));
    }

    [Fact]
    public async Task ASessionProcessorHandlesEverySessionInOrder()
    {
        await using var sender = client.CreateSender("dotnet-session-processor");
        var sessions = new[] { "p1", "p2", "p3" };
        foreach (var session in sessions)
            await sender.SendMessagesAsync(Enumerable.Range(0, 5).Select(i => new ServiceBusMessage($"{i}") { SessionId = session }));
        var handled = new ConcurrentQueue<(string Session, int Number, string? State)>();
        var done = new TaskCompletionSource();

        await using var processor = client.CreateSessionProcessor("dotnet-session-processor", new ServiceBusSessionProcessorOptions
        {
            MaxConcurrentSessions = 2,
            AutoCompleteMessages = true,
            SessionIdleTimeout = TimeSpan.FromMilliseconds(500),
        });
        processor.ProcessMessageAsync += async args =>
        {
            var state = await args.GetSessionStateAsync();
            await args.SetSessionStateAsync(BinaryData.FromString(args.Message.Body.ToString()));
            handled.Enqueue((args.SessionId, int.Parse(args.Message.Body.ToString()), state?.ToString()));
            if (handled.Count == 15) done.TrySetResult();
        };
        processor.ProcessErrorAsync += args =>
        {
            // The processor asks for the next session and times out while none is free: the service's answer.
            if (args.Exception is not ServiceBusException { Reason: ServiceBusFailureReason.ServiceTimeout })
                done.TrySetException(args.Exception);
            return Task.CompletedTask;
        };
        await processor.StartProcessingAsync();
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await processor.StopProcessingAsync();

        foreach (var session in sessions)
        {
            var ofSession = handled.Where(entry => entry.Session == session).ToList();
            Assert.Equal(new[] { 0, 1, 2, 3, 4 }, ofSession.Select(entry => entry.Number));
            Assert.Equal(new string?[] { null, "0", "1", "2", "3" }, ofSession.Select(entry => entry.State));
        }
    }
}
