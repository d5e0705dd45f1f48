import { loadConfig } from '../../src/config';
import type { JobsRuntime, RuntimeOverrides } from '../../src/runtime';
import { createJobsRuntime } from '../../src/runtime';

/** Settings for tests: embedded mode, diagnostics on, quick retries, no log noise. */
export const embeddedTestSettings: Record<string, string> = {
  Jobs__UseServiceBus: 'false',
  Jobs__EnableDiagnostics: 'true',
  Jobs__LogLevel: 'silent',
  Jobs__Retry__BaseDelayMs: '10',
  Jobs__Retry__MaxDelayMs: '100',
  Jobs__HandlerTimeoutMs: '300',
};

export function embeddedRuntime(
  settings: Record<string, string> = {},
  overrides: RuntimeOverrides = {},
): JobsRuntime {
  return createJobsRuntime(loadConfig({ ...embeddedTestSettings, ...settings }), overrides);
}
