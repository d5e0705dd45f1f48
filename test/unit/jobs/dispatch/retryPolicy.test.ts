import { retryDelayMs } from '../../../../src/jobs/dispatch/retryPolicy';

const settings = { baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0.2 };
const noJitter = () => 0.5;

describe('retryDelayMs', () => {
  it('doubles the delay with each failed attempt', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, settings, noJitter))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
  });

  it('never exceeds the maximum delay, even with jitter', () => {
    expect(retryDelayMs(30, settings, () => 0.999)).toBe(60_000);
    expect(retryDelayMs(1_000, settings, noJitter)).toBe(60_000);
  });

  it('spreads the delay by at most the jitter fraction either way', () => {
    expect(retryDelayMs(2, settings, () => 0)).toBe(1_600);
    expect(retryDelayMs(2, settings, () => 1)).toBe(2_400);
  });

  it('is exact without jitter', () => {
    expect(retryDelayMs(3, { ...settings, jitter: 0 }, Math.random)).toBe(4_000);
  });
});
