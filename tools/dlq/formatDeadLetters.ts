import type {
  BulkReplayResult,
  DeadLetterListing,
  DiscardResult,
  ReplayResult,
} from '../../src/jobs/operators/deadLetterService';

const maxDescription = 60;

/** The listing as a table, oldest first, then the counts over everything read. */
export function formatListing(listing: DeadLetterListing): string {
  const lines: string[] = [];
  if (listing.items.length === 0) {
    lines.push(listing.scanned === 0 ? 'The dead-letter queue is empty.' : 'No dead-lettered job matches.');
  } else {
    const rows = listing.items.map((item) => [
      item.sequenceNumber,
      item.jobId ?? '-',
      item.jobType ?? '-',
      item.reason,
      String(item.attempts),
      item.deadLetteredAt ?? '-',
      shorten(item.description),
    ]);
    lines.push(
      ...table(['SEQ', 'JOB ID', 'JOB TYPE', 'REASON', 'ATTEMPTS', 'DEAD-LETTERED AT', 'DESCRIPTION'], rows),
    );
  }
  lines.push('');
  const shown = `${listing.items.length} shown of ${listing.matched} matching, ${listing.scanned} read`;
  lines.push(listing.truncated ? `${shown} (the queue holds more: counts cover the oldest only)` : shown);
  lines.push(`By reason:   ${counts(listing.counts.byReason)}`);
  lines.push(`By job type: ${counts(listing.counts.byJobType)}`);
  return lines.join('\n');
}

export function formatReplay(result: ReplayResult): string {
  const corrected = result.payloadCorrected ? ' with the corrected payload' : '';
  const lines = [
    `Replayed ${result.sequenceNumber}: job ${result.jobId} is queued again${corrected} (message ${result.messageId}).`,
  ];
  if (!result.removedFromDeadLetterQueue)
    lines.push('Warning: the dead-lettered copy could not be removed; replaying it again is safe.');
  return lines.join('\n');
}

export function formatBulkReplay(result: BulkReplayResult): string {
  const lines = result.results.map((item) =>
    item.status === 'replayed'
      ? `replayed  ${item.sequenceNumber}  ${item.jobId ?? '-'}`
      : `FAILED    ${item.sequenceNumber}  ${item.jobId ?? '-'}  ${item.code}: ${item.error}`,
  );
  lines.push(`${result.replayed} replayed, ${result.failed} failed.`);
  if (result.truncated) lines.push('The queue holds more than one run reads: run it again for the rest.');
  return lines.join('\n');
}

export function formatDiscard(result: DiscardResult): string {
  return `Discarded ${result.sequenceNumber} (${result.reason}${result.jobId ? `, job ${result.jobId}` : ''}).`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  return [header, ...rows].map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function counts(byKey: Record<string, number>): string {
  const entries = Object.entries(byKey).sort(([, a], [, b]) => b - a);
  return entries.length === 0 ? '-' : entries.map(([key, count]) => `${key} ${count}`).join(', ');
}

function shorten(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > maxDescription ? `${line.slice(0, maxDescription - 1)}…` : line;
}
