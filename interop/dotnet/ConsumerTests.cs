using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// The other direction: the platform's C# consumer reads what the app sent. The jobs are listed in
/// SDAP_INTEROP_SENT_JOBS (written by test/interop/dotnetConsumer.test.ts from its submissions and the app's
/// records); each message is read the way the platform's <c>ServiceBusJobProcessor</c> reads it.
/// </summary>
public sealed class ConsumerTests
{
    /// <summary>What the platform's processor passes to <c>JsonSerializer.Deserialize&lt;JobContract&gt;</c>.</summary>
    private static readonly JsonSerializerOptions ProcessorJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    [Fact]
    public async Task DeserializesEveryMessageTheAppSentWithoutLosingAField()
    {
        var expected = JsonNode.Parse(await File.ReadAllTextAsync(InteropEnvironment.SentJobsFile))!
            .AsArray()
            .Select(job => job!.AsObject())
            .ToDictionary(job => (string)job["messageId"]!);
        await using var client = new ServiceBusClient(InteropEnvironment.AppConnectionString);
        await using var receiver = client.CreateReceiver(InteropEnvironment.AppQueue);

        var read = new Dictionary<string, (ServiceBusReceivedMessage Message, JobContract Job)>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (read.Count < expected.Count && DateTime.UtcNow < deadline)
        {
            foreach (var message in await receiver.ReceiveMessagesAsync(10, TimeSpan.FromSeconds(5)))
            {
                var job = JsonSerializer.Deserialize<JobContract>(message.Body.ToString(), ProcessorJson);
                Assert.NotNull(job);
                read[message.MessageId] = (message, job);
                await receiver.CompleteMessageAsync(message);
            }
        }

        Assert.Equal(expected.Keys.Order(), read.Keys.Order());
        foreach (var (messageId, want) in expected)
        {
            var (message, job) = read[messageId];
            Assert.Equal(Guid.Parse((string)want["jobId"]!), job.JobId);
            Assert.Equal((string)want["jobType"]!, job.JobType);
            Assert.Equal((string)want["subjectId"]!, job.SubjectId);
            Assert.Equal((string)want["correlationId"]!, job.CorrelationId);
            Assert.Equal((string)want["idempotencyKey"]!, job.IdempotencyKey);
            Assert.Equal((int)want["attempt"]!, job.Attempt);
            Assert.Equal((int)want["maxAttempts"]!, job.MaxAttempts);
            Assert.Equal(DateTimeOffset.Parse((string)want["createdAt"]!), job.CreatedAt);
            Assert.NotNull(job.Payload);
            Assert.True(
                JsonNode.DeepEquals(want["payload"], JsonNode.Parse(job.Payload.RootElement.GetRawText())),
                $"payload of {messageId}: {job.Payload.RootElement.GetRawText()}");

            Assert.Equal("application/json", message.ContentType);
            Assert.Equal(job.JobType, message.Subject);
            // Not set when the job has no idempotency key (docs/contract.md).
            Assert.Equal(job.IdempotencyKey is "" ? null : job.IdempotencyKey, message.CorrelationId);
            Assert.Equal(job.JobType, message.ApplicationProperties["JobType"]);
            // An int, as the C# producer sends it: unboxing any other type to int throws.
            Assert.Equal(job.Attempt, (int)message.ApplicationProperties["Attempt"]);
            Assert.Equal(job.CreatedAt, DateTimeOffset.Parse((string)message.ApplicationProperties["CreatedAt"]));
        }
    }
}
