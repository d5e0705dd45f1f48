/** The part of LokiJS's `Collection` (the store under Azurite's Table service) that the faster lookup reads. */
interface LokiCollection {
  data: Record<string, unknown>[];
  binaryIndices: Record<string, { values: number[] }>;
  adaptiveBinaryIndices: boolean;
  cloneObjects: boolean;
  calculateRange(op: '$eq', property: string, value: unknown): [number, number];
  ensureIndex(property: string): void;
  findOne(query: Record<string, unknown> | null | undefined): unknown;
}

let installed = false;

/**
 * Azurite finds an entity by `findOne({ PartitionKey, RowKey })`, which LokiJS answers from the PartitionKey index
 * and then a scan of the whole partition for the RowKey: every write to one of the app's listing partitions (a day of
 * jobs each) scanned the day, half of Azurite's CPU under `npm run bench:local` (`--cpu-prof`). This answers that one
 * query from whichever of the two indexes Azurite declares (PartitionKey, RowKey) holds fewer candidates: a job's
 * record is alone in its partition, a listing entry alone under its RowKey. Any other query, or a collection without
 * both indexes, goes to LokiJS as before. `lokijs` is Azurite's own copy; in-memory, nothing else in this process uses
 * it.
 */
export function findEntitiesByTheNarrowerIndex(lokijs: string): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prototype } = (require(lokijs) as { Collection: { prototype: LokiCollection } }).Collection;
  const findOne = prototype.findOne;
  prototype.findOne = function (this: LokiCollection, query) {
    const { PartitionKey, RowKey } = query ?? {};
    if (
      Object.keys(query ?? {}).length !== 2 ||
      typeof PartitionKey !== 'string' ||
      typeof RowKey !== 'string' ||
      !this.binaryIndices.PartitionKey ||
      !this.binaryIndices.RowKey ||
      this.cloneObjects ||
      this.data.length === 0
    ) {
      return findOne.call(this, query);
    }
    if (!this.adaptiveBinaryIndices) {
      this.ensureIndex('PartitionKey');
      this.ensureIndex('RowKey');
    }
    const [partitionFrom, partitionTo] = this.calculateRange('$eq', 'PartitionKey', PartitionKey);
    const [rowFrom, rowTo] = this.calculateRange('$eq', 'RowKey', RowKey);
    const [property, from, to] =
      partitionTo - partitionFrom <= rowTo - rowFrom
        ? ['PartitionKey', partitionFrom, partitionTo]
        : ['RowKey', rowFrom, rowTo];
    const positions = this.binaryIndices[property]!.values;
    for (let at = from; at <= to; at++) {
      const entity = this.data[positions[at]!]!;
      if (entity.PartitionKey === PartitionKey && entity.RowKey === RowKey) return entity;
    }
    return null;
  };
}
