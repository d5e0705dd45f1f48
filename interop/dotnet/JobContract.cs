using System.Text.Json;

namespace SdapJobs.Interop;

/// <summary>
/// The ADR-004 job contract as the platform's C# code declares it: the same property names, types and defaults,
/// including the computed <see cref="IsAtMaxAttempts"/> that System.Text.Json serializes into every body.
/// </summary>
public class JobContract
{
    public Guid JobId { get; set; } = Guid.NewGuid();

    public string JobType { get; set; } = string.Empty;

    public string SubjectId { get; set; } = string.Empty;

    public string CorrelationId { get; set; } = string.Empty;

    public string IdempotencyKey { get; set; } = string.Empty;

    public int Attempt { get; set; } = 1;

    public int MaxAttempts { get; set; } = 3;

    public JsonDocument? Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public bool IsAtMaxAttempts => Attempt >= MaxAttempts;
}
