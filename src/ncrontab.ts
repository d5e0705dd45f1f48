/**
 * A timer schedule as the Functions host reads it: NCRONTAB (the NCrontab library under the host's timer trigger),
 * six fields `{second} {minute} {hour} {day} {month} {day-of-week}`, or five without the seconds (then 0), as the
 * host also accepts. A field is `*`, a value, a range `a-b`, a step `x/n` (`x` being `*`, a range, or a value that
 * runs to the field's maximum), or a comma list of these; months and days of the week also take English names or
 * their prefixes (`Jan`, `mon`). The day of the month and the day of the week must both match. Times are UTC, the
 * host's default without `WEBSITE_TIME_ZONE`.
 */
export interface NcrontabSchedule {
  readonly expression: string;
  /** The first occurrence after `after` (whole seconds), or undefined when there is none in the next 30 years. */
  next(after: Date): Date | undefined;
}

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const second: FieldSpec = { name: 'second', min: 0, max: 59 };
const minute: FieldSpec = { name: 'minute', min: 0, max: 59 };
const hour: FieldSpec = { name: 'hour', min: 0, max: 23 };
const day: FieldSpec = { name: 'day', min: 1, max: 31 };
const month: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};
const dayOfWeek: FieldSpec = {
  name: 'day-of-week',
  min: 0,
  max: 6,
  names: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
};

const horizonYears = 30;

/** Parses an NCRONTAB expression; throws an Error saying which field is wrong and why. */
export function parseNcrontab(expression: string): NcrontabSchedule {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new Error(
      `expected six fields ({second} {minute} {hour} {day} {month} {day-of-week}), or five without the seconds; ` +
        `got ${fields.length}`,
    );
  }
  const specs =
    fields.length === 6
      ? [second, minute, hour, day, month, dayOfWeek]
      : [minute, hour, day, month, dayOfWeek];
  const sets = fields.map((field, index) => parseField(field, specs[index]!));
  const [seconds, minutes, hours, days, months, weekdays] =
    fields.length === 6 ? sets : [new Set([0]), ...sets];
  return {
    expression,
    next: (after) => nextOccurrence(after, seconds!, minutes!, hours!, days!, months!, weekdays!),
  };
}

function parseField(field: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    if (part === '') throw new Error(`${spec.name} field '${field}' has an empty list item`);
    const [range, stepText, extra] = part.split('/');
    if (extra !== undefined) throw new Error(`${spec.name} field '${part}' has more than one '/'`);
    const step = stepText === undefined ? 1 : parseNumber(stepText, spec, 'step');
    if (step < 1) throw new Error(`${spec.name} field '${part}' has a step below 1`);
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [spec.min, spec.max];
    } else if (range!.includes('-')) {
      const [first, last, more] = range!.split('-');
      if (more !== undefined) throw new Error(`${spec.name} field '${part}' is not a range a-b`);
      [from, to] = [parseValue(first!, spec), parseValue(last!, spec)];
      // NCrontab reads a reversed range as the same range.
      if (from > to) [from, to] = [to, from];
    } else {
      from = parseValue(range!, spec);
      to = stepText === undefined ? from : spec.max;
    }
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) {
      throw new Error(`${spec.name} ${value} is outside ${spec.min}-${spec.max}`);
    }
    return value;
  }
  const lower = text.toLowerCase();
  const index =
    text === '' ? -1 : (spec.names ?? []).findIndex((name) => name.toLowerCase().startsWith(lower));
  if (index < 0) {
    const names = spec.names ? `, or a name (${spec.names.map((name) => name.slice(0, 3)).join(', ')})` : '';
    throw new Error(`${spec.name} '${text}' is not a number from ${spec.min} to ${spec.max}${names}`);
  }
  return spec.min + index;
}

function parseNumber(text: string, spec: FieldSpec, what: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`${spec.name} ${what} '${text}' is not a number`);
  return Number(text);
}

/** Walks forward from the second after `after`, jumping a whole month, day, hour or minute when that part misses. */
function nextOccurrence(
  after: Date,
  seconds: Set<number>,
  minutes: Set<number>,
  hours: Set<number>,
  days: Set<number>,
  months: Set<number>,
  weekdays: Set<number>,
): Date | undefined {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const lastYear = t.getUTCFullYear() + horizonYears;
  while (t.getUTCFullYear() <= lastYear) {
    if (!months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!days.has(t.getUTCDate()) || !weekdays.has(t.getUTCDay())) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else if (!seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
    } else {
      return t;
    }
  }
  return undefined;
}
