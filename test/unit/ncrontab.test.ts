import { parseNcrontab } from '../../src/ncrontab';

// Expected occurrences follow the host's NCrontab: day of month and day of week both match, names by prefix,
// a reversed range read as the same range, five fields meaning second 0.
describe('parseNcrontab', () => {
  it.each([
    ['0 */1 * * * *', '2026-03-02T10:00:30Z', '2026-03-02T10:01:00Z'],
    ['0 17 * * * *', '2026-03-02T10:00:00Z', '2026-03-02T10:17:00Z'],
    ['0 17 * * * *', '2026-03-02T10:17:00Z', '2026-03-02T11:17:00Z'],
    ['*/5 * * * * *', '2026-03-02T10:00:00.400Z', '2026-03-02T10:00:05Z'],
    ['0 30 9 * * 1-5', '2026-03-06T10:00:00Z', '2026-03-09T09:30:00Z'],
    ['0 30 9 * Jan Mon', '2026-03-02T10:00:00Z', '2027-01-04T09:30:00Z'],
    ['0 0 0 29 feb *', '2026-03-02T00:00:00Z', '2028-02-29T00:00:00Z'],
    ['0 0 0 31 * *', '2026-04-01T00:00:00Z', '2026-05-31T00:00:00Z'],
    ['5,8,10 * * * * *', '2026-03-02T10:00:08Z', '2026-03-02T10:00:10Z'],
    ['0 0 17-9/4 * * *', '2026-03-02T10:00:00Z', '2026-03-02T13:00:00Z'],
    ['0 50/5 * * * *', '2026-03-02T10:56:00Z', '2026-03-02T11:50:00Z'],
    ['30 4 * * *', '2026-03-02T10:00:00Z', '2026-03-03T04:30:00Z'],
    ['0 0 0 1 1 Sat', '2026-03-02T00:00:00Z', '2028-01-01T00:00:00Z'],
  ])('%s after %s: %s', (expression, after, expected) => {
    const next = parseNcrontab(expression).next(new Date(after));

    expect(next?.toISOString()).toBe(new Date(expected).toISOString());
  });

  it('finds no occurrence for a date that never comes', () => {
    expect(parseNcrontab('0 0 0 30 Feb *').next(new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
  });

  it.each([
    ['every minute', /expected six fields/],
    ['0 0 * * *  * *', /got 7/],
    ['0 61 * * * *', /minute 61 is outside 0-59/],
    ['0 0 24 * * *', /hour 24 is outside 0-23/],
    ['0 0 0 0 * *', /day 0 is outside 1-31/],
    ['0 0 0 * 13 *', /month 13 is outside 1-12/],
    ['0 0 0 * * 7', /day-of-week 7 is outside 0-6/],
    ['0 0 0 * Foo *', /month 'Foo' is not a number from 1 to 12, or a name \(Jan/],
    ['0 */0 * * * *', /minute field '\*\/0' has a step below 1/],
    ['0 1,,2 * * * *', /empty list item/],
    ['0 1-2-3 * * * *', /not a range/],
    ['0 -5 * * * *', /minute '' is not a number/],
    ['0 5/x * * * *', /minute step 'x' is not a number/],
  ])('refuses %s, saying why', (expression, why) => {
    expect(() => parseNcrontab(expression)).toThrow(why);
  });
});
