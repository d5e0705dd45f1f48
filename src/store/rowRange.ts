import { odata } from '@azure/data-tables';

/** Row keys of one kind, `[from, to)`: every key of the kind starts with `from`; `to` is just past them all. */
export interface RowRange {
  readonly from: string;
  readonly to: string;
}

/** Every row key that starts with `prefix`, which ends with '|' ('}' follows it: just past every such key). */
export function prefixRange(prefix: string): RowRange {
  return { from: prefix, to: `${prefix.slice(0, -1)}}` };
}

/** The filter of the rows of `range` in `partition`, past `after` when given. */
export function rangeFilter(partition: string, range: RowRange, after = ''): string {
  return [
    odata`PartitionKey eq ${partition}`,
    after === '' ? odata`RowKey ge ${range.from}` : odata`RowKey gt ${after}`,
    odata`RowKey lt ${range.to}`,
  ].join(' and ');
}
