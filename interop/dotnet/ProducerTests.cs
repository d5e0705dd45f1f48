using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Messaging.ServiceBus;
using Xunit;

namespace SdapJobs.Interop;

/// <summary>
/// The platform's producer, as written, sends to the app's queue; the app (its local host on the emulator and
/// Azurite, in the settlement mode SDAP_INTEROP_APP_SETTLEMENT names) runs the jobs and refuses the bad ones, and
/// its HTTP API shows the records.
/// </summary>
public sealed class ProducerTests : IAsyncLifetime
{
    private static readonly TimeSpan Settles = TimeSpan.FromSeconds(45);

    private readonly ServiceBusClient client = new(InteropEnvironment.AppConnectionString);
    private readonly HttpClient app = new() { BaseAddress = InteropEnvironment.AppUrl };
    private ServiceBusSender sender = null!;

    public Task InitializeAsync()
    {
        sender = client.CreateSender(InteropEnvironment.AppQueue);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await sender.DisposeAsync();
        await client.DisposeAsync();
        app.Dispose();
    }

    [Fact]
    public async Task RunsTheProducersJobsToCompletedWithTheirFieldsInTheRecord()
    {
        var job = NewJob("diagnostics.simulate", """{"durationMs":5}""");

        await new JobSubmissionService(sender, JobSubmissionService.PlatformJson).SubmitJobAsync(job);

        var record = await SettledRecord(job.JobId);
        Assert.Equal("Completed", (string?)record["status"]);
        Assert.Equal(1, (int?)record["attempt"]);
        Assert.Equal(job.SubjectId, (string?)record["subjectId"]);
        Assert.Equal(job.CorrelationId, (string?)record["correlationId"]);
        Assert.Equal(job.IdempotencyKey, (string?)record["idempotencyKey"]);
        Assert.Equal(job.JobType, (string?)record["jobType"]);
    }

    [Fact]
    public async Task RunsJobsSerializedWithSystemTextJsonDefaultsToo()
    {
        // PascalCase keys: what JsonSerializer writes without options.
        var job = NewJob("diagnostics.simulate", """{"durationMs":5}""");

        await new JobSubmissionService(sender, JsonSerializerOptions.Default).SubmitJobAsync(job);

        var record = await SettledRecord(job.JobId);
        Assert.Equal("Completed", (string?)record["status"]);
        Assert.Equal(job.SubjectId, (string?)record["subjectId"]);
    }

    [Fact]
    public async Task RetriesAFailingJobAndCompletesItAtItsThirdAttempt()
    {
        var job = NewJob("diagnostics.simulate", """{"failTimes":2}""");

        await new JobSubmissionService(sender, JobSubmissionService.PlatformJson).SubmitJobAsync(job);

        var record = await SettledRecord(job.JobId);
        Assert.Equal("Completed", (string?)record["status"]);
        Assert.Equal(3, (int?)record["attempt"]);
        Assert.Equal(
            ["Failed", "Failed", "Completed"],
            record["outcomes"]!.AsArray().Select(outcome => (string?)outcome!["status"]));
    }

    [Theory]
    [InlineData("reports.unknown", """{"durationMs":5}""", "NoHandler", "No handler for job type 'reports.unknown'")]
    [InlineData("diagnostics.simulate", """{"durationMs":"soon"}""", "InvalidPayload", "payload.durationMs")]
    public async Task DeadLettersAJobItCannotRunWithItsReasonInTheRecord(
        string jobType,
        string payload,
        string reason,
        string describedBy)
    {
        var job = NewJob(jobType, payload);

        await new JobSubmissionService(sender, JobSubmissionService.PlatformJson).SubmitJobAsync(job);

        var record = await SettledRecord(job.JobId);
        Assert.Equal("DeadLettered", (string?)record["status"]);
        Assert.Equal(reason, (string?)record["deadLetterReason"]);
        Assert.Contains(describedBy, (string?)record["deadLetterDescription"]);
        var deadLettered = await DeadLetteredMessage(job.JobId.ToString());
        Assert.Equal(BrokerReason(reason), deadLettered.DeadLetterReason);
        var listed = await ListedDeadLetter(job.JobId.ToString());
        Assert.Equal(reason, (string?)listed["reason"]);
        Assert.Equal(job.JobId.ToString(), (string?)listed["jobId"]);
    }

    [Fact]
    public async Task DeadLettersAMessageThatIsNotJsonAsInvalidFormat()
    {
        var messageId = Guid.NewGuid().ToString();
        await sender.SendMessageAsync(
            new ServiceBusMessage(Encoding.UTF8.GetBytes("<job>not json</job>"))
            {
                MessageId = messageId,
                ContentType = "application/json",
            });

        var deadLettered = await DeadLetteredMessage(messageId);

        Assert.Equal(BrokerReason("InvalidFormat"), deadLettered.DeadLetterReason);
        var listed = await ListedDeadLetter(messageId);
        Assert.Equal("InvalidFormat", (string?)listed["reason"]);
        Assert.Null((string?)listed["jobId"]);
    }

    private static JobContract NewJob(string jobType, string payload) => new()
    {
        JobType = jobType,
        SubjectId = $"subject-{Guid.NewGuid():N}",
        CorrelationId = $"correlation-{Guid.NewGuid():N}",
        IdempotencyKey = $"dotnet-{Guid.NewGuid():N}",
        Payload = JsonDocument.Parse(payload),
    };

    /// <summary>
    /// In explicit settlement the app dead-letters with its own reason; in host settlement it cannot, and the
    /// broker moves the message after MaxDeliveryCount with its own.
    /// </summary>
    private static string BrokerReason(string reason) =>
        Environment.GetEnvironmentVariable("SDAP_INTEROP_APP_SETTLEMENT") == "explicit" ? reason : "MaxDeliveryCountExceeded";

    private async Task<JsonObject> SettledRecord(Guid jobId) =>
        await Eventually($"job {jobId} to settle", async () =>
        {
            using var response = await app.GetAsync($"api/jobs/{jobId}");
            if (response.StatusCode == HttpStatusCode.NotFound) return null;
            response.EnsureSuccessStatusCode();
            var record = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            return (string?)record["status"] is "Completed" or "DeadLettered" or "Cancelled" ? record : null;
        });

    private async Task<ServiceBusReceivedMessage> DeadLetteredMessage(string messageId)
    {
        await using var deadLetters = client.CreateReceiver(
            InteropEnvironment.AppQueue,
            new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
        return await Eventually($"message {messageId} in the dead-letter sub-queue", async () =>
            (await deadLetters.PeekMessagesAsync(250, fromSequenceNumber: 0)).FirstOrDefault(message => message.MessageId == messageId));
    }

    private async Task<JsonObject> ListedDeadLetter(string messageId) =>
        await Eventually($"message {messageId} in GET /api/deadletters", async () =>
        {
            var listing = (await app.GetFromJsonAsync<JsonObject>("api/deadletters?limit=1000"))!;
            return listing["items"]!.AsArray().OfType<JsonObject>().FirstOrDefault(item => (string?)item["messageId"] == messageId);
        });

    private static async Task<T> Eventually<T>(string description, Func<Task<T?>> attempt)
        where T : class
    {
        var deadline = DateTime.UtcNow + Settles;
        while (true)
        {
            if (await attempt() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {Settles.TotalSeconds} s for {description}.");
            await Task.Delay(100);
        }
    }
}
