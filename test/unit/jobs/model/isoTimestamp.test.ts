import { isoTimestamp } from '../../../../src/jobs/model/isoTimestamp';

describe('isoTimestamp', () => {
  it('writes what toISOString writes, across days, years, the epoch and the ends of the range', () => {
    const edges = [0, -1, 999, 86_399_999, 86_400_000, -86_400_001, 253_402_300_799_999, 253_402_300_800_000];
    const spread = Array.from({ length: 2000 }, (_, index) => Math.round(Math.sin(index + 1) * 8e15));
    const sameDay = (start: number) => Array.from({ length: 2000 }, (_, index) => start + index * 43_219);

    for (const ms of [
      ...edges,
      ...spread,
      ...sameDay(Date.UTC(2026, 10, 29)),
      ...sameDay(Date.UTC(1969, 11, 31)),
      8.64e15,
      -8.64e15,
    ]) {
      expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
    }
  });

  it('throws a RangeError for an invalid date, as toISOString does', () => {
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
