/** A document of a LokiJS collection: Azurite's entities carry their keys at the top level. */
interface LokiDocument {
  PartitionKey?: unknown;
  RowKey?: unknown;
  $loki?: number;
}

/** The part of LokiJS's `Collection` (the store under Azurite's Table service) that the lookup reads and wraps. */
interface LokiCollection {
  data: LokiDocument[];
  binaryIndices: Record<string, unknown>;
  cloneObjects: boolean;
  get(id: number): LokiDocument | null;
  findOne(query: Record<string, unknown> | null | undefined): unknown;
  insertOne(doc: LokiDocument, bulkInsert?: boolean): LokiDocument | undefined;
  update(doc: LokiDocument | LokiDocument[]): void;
}

let installed = false;
// A collection's documents by their keys, once it has been asked for one by its keys: every document it holds under
// its keys (inserted or updated since), and documents removed since (LokiJS strips their `$loki`: not stored).
const byKeys = new WeakMap<LokiCollection, Map<string, LokiDocument>>();

/**
 * Azurite finds an entity by `findOne({ PartitionKey, RowKey })`, which LokiJS answers from its PartitionKey index
 * and then a scan of the whole partition; and it keeps both keys' binary indexes sorted on every insert, update and
 * remove, each a walk of the whole index (Azurite replaces an entity by a remove and an insert). Under
 * `npm run bench:local` that was over a quarter of Azurite's CPU (`--cpu-prof`), and it grows with the table.
 *
 * This answers that one query from a map of the collection's documents by their keys, kept as LokiJS stores them:
 * built from the collection's data the first time it is asked, then told of every insert and update; a removed
 * document is recognised when found (LokiJS takes its `$loki` away). Once a collection has the map, the two key
 * indexes serve nothing Azurite asks (its queries scan with `where`), and are dropped. Any other query, or a
 * collection that clones its objects, goes to LokiJS as before. Azurite keeps one entity per pair of keys; the
 * lookup relies on that. `lokijs` is Azurite's own copy; in memory, nothing else in this process uses it.
 */
export function findEntitiesByKeys(lokijs: string): void {
  if (installed) return;
  installed = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { prototype } = (require(lokijs) as { Collection: { prototype: LokiCollection } }).Collection;
  const { findOne, insertOne, update } = prototype;

  prototype.findOne = function (this: LokiCollection, query) {
    const { PartitionKey, RowKey } = query ?? {};
    if (
      Object.keys(query ?? {}).length !== 2 ||
      typeof PartitionKey !== 'string' ||
      typeof RowKey !== 'string' ||
      this.cloneObjects
    ) {
      return findOne.call(this, query);
    }
    const found = (byKeys.get(this) ?? keyed(this)).get(keysOf(PartitionKey, RowKey));
    return found && isStoredUnder(this, found, PartitionKey, RowKey) ? found : null;
  };

  prototype.insertOne = function (this: LokiCollection, doc, bulkInsert) {
    const inserted = insertOne.call(this, doc, bulkInsert);
    if (inserted) remember(this, inserted);
    return inserted;
  };

  prototype.update = function (this: LokiCollection, doc) {
    update.call(this, doc);
    // An array is updated one document at a time, through this method.
    if (!Array.isArray(doc) && typeof doc.$loki === 'number') {
      const stored = this.get(doc.$loki);
      if (stored) remember(this, stored);
    }
  };
}

function keyed(collection: LokiCollection): Map<string, LokiDocument> {
  const documents = new Map<string, LokiDocument>();
  byKeys.set(collection, documents);
  for (const doc of collection.data) remember(collection, doc);
  delete collection.binaryIndices['PartitionKey'];
  delete collection.binaryIndices['RowKey'];
  return documents;
}

function remember(collection: LokiCollection, doc: LokiDocument): void {
  const { PartitionKey, RowKey } = doc;
  if (typeof PartitionKey === 'string' && typeof RowKey === 'string')
    byKeys.get(collection)?.set(keysOf(PartitionKey, RowKey), doc);
}

// The partition key's length first: no pair of keys makes another pair's text.
function keysOf(partitionKey: string, rowKey: string): string {
  return `${partitionKey.length}:${partitionKey}${rowKey}`;
}

function isStoredUnder(
  collection: LokiCollection,
  doc: LokiDocument,
  partitionKey: string,
  rowKey: string,
): boolean {
  return (
    typeof doc.$loki === 'number' &&
    collection.get(doc.$loki) === doc &&
    doc.PartitionKey === partitionKey &&
    doc.RowKey === rowKey
  );
}
