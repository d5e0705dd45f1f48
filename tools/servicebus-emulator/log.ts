/**
 * Emulator diagnostics go to stderr, and only when SB_EMULATOR_LOG is set: the emulator runs inside
 * test processes, where unsolicited output would drown the test report.
 */
export function log(message: string, ...details: unknown[]): void {
  if (process.env.SB_EMULATOR_LOG) {
    console.error(`[servicebus-emulator] ${message}`, ...details);
  }
}
