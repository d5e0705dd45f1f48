const isoDuration =
  /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;
// .NET TimeSpan text, which the official emulator's Config.json also accepts: [d.]hh:mm:ss[.fffffff]
const timeSpan = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Parses an ISO-8601 duration (`PT1M`, `P14D`, `PT0.5S`) or a .NET TimeSpan (`00:01:00`, `1.00:00:00`)
 * into milliseconds. Returns undefined for anything else, so the caller can name the bad setting.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  const iso = isoDuration.exec(trimmed);
  if (iso && trimmed.length > 1 && !/T$/i.test(trimmed)) {
    const [, weeks, days, hours, minutes, seconds] = iso;
    return Math.round(
      num(weeks) * 7 * DAY +
        num(days) * DAY +
        num(hours) * HOUR +
        num(minutes) * MINUTE +
        num(seconds) * SECOND,
    );
  }
  const span = timeSpan.exec(trimmed);
  if (span) {
    const [, days, hours, minutes, seconds, fraction] = span;
    const fractionMs = fraction ? Number(`0.${fraction}`) * SECOND : 0;
    return Math.round(
      num(days) * DAY + num(hours) * HOUR + num(minutes) * MINUTE + num(seconds) * SECOND + fractionMs,
    );
  }
  return undefined;
}

function num(part: string | undefined): number {
  return part === undefined ? 0 : Number(part);
}
