import { join } from 'node:path';
import { readEmulatorConfig, resolveNamespace } from '../../tools/servicebus-emulator/emulatorConfig';
import { parseDuration } from '../../tools/servicebus-emulator/parseDuration';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';

describe('Service Bus emulator: configuration', () => {
  it("reads the repository's Config.json with the sdap-jobs queue settings", () => {
    const config = readEmulatorConfig(join(__dirname, '../../infra/local/servicebus-emulator.config.json'));

    const namespace = resolveNamespace(config);

    expect(namespace.name).toBe('sbemulatorns');
    expect(namespace.queues).toEqual([
      {
        name: 'sdap-jobs',
        maxDeliveryCount: 10,
        lockDurationMs: 60_000,
        defaultMessageTimeToLiveMs: 3_600_000,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindowMs: 600_000,
        deadLetteringOnMessageExpiration: true,
        requiresSession: false,
        forwardTo: undefined,
        forwardDeadLetteredMessagesTo: undefined,
      },
    ]);
  });

  it('accepts ISO-8601 and TimeSpan durations alike', () => {
    expect(parseDuration('PT1M')).toBe(60_000);
    expect(parseDuration('00:01:00')).toBe(60_000);
    expect(parseDuration('P14D')).toBe(14 * 24 * 3_600_000);
    expect(parseDuration('1.02:03:04.5')).toBe(((24 + 2) * 3600 + 3 * 60 + 4.5) * 1000);
    expect(parseDuration('PT0.5S')).toBe(500);
    expect(parseDuration('P1DT1H')).toBe(25 * 3_600_000);
    expect(parseDuration('one minute')).toBeUndefined();
    expect(parseDuration('PT')).toBeUndefined();
  });

  it('applies the official defaults and lets code declare queues with short durations', () => {
    const namespace = resolveNamespace(undefined, { fast: { LockDuration: 500, MaxDeliveryCount: 2 } });

    expect(namespace.queues[0]).toMatchObject({
      name: 'fast',
      lockDurationMs: 500,
      maxDeliveryCount: 2,
      defaultMessageTimeToLiveMs: 3_600_000,
      requiresDuplicateDetection: false,
    });
  });

  it('refuses a config with a bad setting, naming it', async () => {
    await expect(
      startServiceBusEmulator({ port: 0, queues: { bad: { LockDuration: 'soon' } } }),
    ).rejects.toThrow(/LockDuration/);
  });
});
