import type { Operation, ScaleFigures } from './costModel/jobTableScale';
import { measureJobTable, operations } from './costModel/jobTableScale';

/**
 * `npm run bench:scale`: what each periodic and operator read of the Table job store costs at 1 million records
 * (a day of a million jobs) and at 30 million (30 days of them, the retention window), on the cost model: requests
 * and entities read and written, as Table Storage would count them (issue 25, goal 5). `--days=1,30` picks the sizes.
 */
async function main(): Promise<void> {
  const daysArgument = process.argv.find((argument) => argument.startsWith('--days='));
  const sizes = (daysArgument?.slice('--days='.length) ?? '1,30').split(',').map(Number);
  const results: ScaleFigures[] = [];
  for (const days of sizes) {
    const figures = await measureJobTable(days);
    console.log(
      `${days} day(s): ${format(figures.records)} records, ${format(figures.indexRows)} index rows, ` +
        `measured in ${(figures.elapsedMs / 1000).toFixed(1)} s`,
    );
    results.push(figures);
  }
  const header = [
    'operation',
    ...results.flatMap((r) => [`req ${label(r)}`, `read ${label(r)}`, `written ${label(r)}`]),
  ];
  const rows = (Object.keys(operations) as Operation[]).map((operation) => [
    operations[operation],
    ...results.flatMap((result) => {
      const cost = result.figures[operation];
      return [format(cost.requests), format(cost.entitiesRead), format(cost.entitiesWritten)];
    }),
  ]);
  const widths = header.map((_, column) =>
    Math.max(...[header, ...rows].map((row) => (row[column] ?? '').length)),
  );
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[0] as number) : cell.padStart(widths[column] as number),
        )
        .join('  '),
    );
}

function label(figures: ScaleFigures): string {
  return `${figures.records / 1_000_000}M`;
}

function format(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(2);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
