using System.Text.Json;
using Azure.Messaging.ServiceBus;

namespace SdapJobs.Interop;

/// <summary>
/// Sends a job the way the platform's <c>JobSubmissionService.SubmitJobAsync</c> does (REFERENCE.md, "The job
/// contract on the wire"): the contract as JSON, <c>MessageId</c> = jobId, <c>CorrelationId</c> = idempotency key,
/// <c>Subject</c> = jobType, <c>ContentType</c> = application/json, and the application properties
/// <c>JobType</c>, <c>Attempt</c>, <c>CreatedAt</c>.
/// </summary>
public sealed class JobSubmissionService(ServiceBusSender sender, JsonSerializerOptions serializerOptions)
{
    /// <summary>camelCase, as the platform's producer writes and its <c>ServiceBusJobProcessor</c> reads.</summary>
    public static readonly JsonSerializerOptions PlatformJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public async Task SubmitJobAsync(JobContract job, CancellationToken cancellationToken = default)
    {
        var message = new ServiceBusMessage(JsonSerializer.SerializeToUtf8Bytes(job, serializerOptions))
        {
            MessageId = job.JobId.ToString(),
            CorrelationId = job.IdempotencyKey,
            Subject = job.JobType,
            ContentType = "application/json",
        };
        message.ApplicationProperties["JobType"] = job.JobType;
        message.ApplicationProperties["Attempt"] = job.Attempt;
        message.ApplicationProperties["CreatedAt"] = job.CreatedAt.ToString("O");
        await sender.SendMessageAsync(message, cancellationToken);
    }
}
