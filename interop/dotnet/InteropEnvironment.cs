namespace SdapJobs.Interop;

/// <summary>What test/interop/dotnetInterop.test.ts started for these tests, from its SDAP_INTEROP_* variables.</summary>
public static class InteropEnvironment
{
    /// <summary>The bundled emulator, with the queues of interop/dotnet/emulator.config.json.</summary>
    public static string EmulatorConnectionString => Required("SDAP_INTEROP_EMULATOR");

    /// <summary>The emulator the app under test reads its queue from.</summary>
    public static string AppConnectionString => Required("SDAP_INTEROP_APP_SERVICEBUS");

    public static string AppQueue => Required("SDAP_INTEROP_APP_QUEUE");

    public static Uri AppUrl => new(Required("SDAP_INTEROP_APP_URL"));

    /// <summary>A JSON file of the jobs the app sent, as the test that sent them recorded them.</summary>
    public static string SentJobsFile => Required("SDAP_INTEROP_SENT_JOBS");

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: these tests are run by `npx jest test/interop/dotnetInterop.test.ts`, which starts the emulator and the app they talk to.");
}
