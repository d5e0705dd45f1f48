import fc from 'fast-check';
import { findEntitiesByKeys } from '../../../tools/azurite/entityLookup';

const lokijsPath = require.resolve('lokijs', { paths: [require.resolve('azurite/package.json')] });

interface Entity {
  PartitionKey: string;
  RowKey: string;
  value?: number;
}
interface Collection {
  insert(entity: Entity): Entity;
  insert(entities: Entity[]): Entity[];
  update(entity: Entity | Entity[]): void;
  remove(entity: Entity): void;
  find(query: object): Entity[];
  findOne(query: object): Entity | null;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Loki = require(lokijsPath) as new (name: string) => {
  addCollection(name: string, options: object): Collection;
};

/** A table's collection as Azurite creates it (LokiTableMetadataStore): both keys indexed. */
function entityCollection(): Collection {
  return new Loki('table.db').addCollection(`table-${Math.random()}`, {
    indices: ['PartitionKey', 'RowKey'],
  });
}

const key = fc.constantFrom('a', 'b', 'c', 'record', '2026-12-05', '');
const operation = fc.record({
  // `replace`: Azurite's update of an entity (LokiTableMetadataStore.updateTableEntity), a remove and an insert.
  // `lookup`: a lookup between changes, so the lookup's map is built at any point and then kept up.
  kind: fc.constantFrom('insert', 'update', 'replace', 'remove', 'lookup'),
  PartitionKey: key,
  RowKey: key,
});

describe("Azurite's entity lookup by PartitionKey and RowKey", () => {
  beforeAll(() => findEntitiesByKeys(lokijsPath));

  it('finds the entity LokiJS finds, or none, after any inserts, updates and removes', () => {
    fc.assert(
      fc.property(
        fc.array(operation, { maxLength: 60 }),
        fc.array(fc.tuple(key, key)),
        (operations, queries) => {
          const collection = entityCollection();
          operations.forEach(({ kind, PartitionKey, RowKey }, value) => {
            const [existing] = collection.find({ PartitionKey, RowKey });
            if (kind === 'insert' && !existing) collection.insert({ PartitionKey, RowKey, value });
            if (kind === 'update' && existing) collection.update({ ...existing, value });
            if (kind === 'replace' && existing) {
              collection.remove(existing);
              collection.insert({ PartitionKey, RowKey, value });
            }
            if (kind === 'remove' && existing) collection.remove(existing);
            if (kind === 'lookup')
              expect(collection.findOne({ PartitionKey, RowKey })).toBe(existing ?? null);
          });

          for (const [PartitionKey, RowKey] of queries) {
            expect(collection.findOne({ PartitionKey, RowKey })).toBe(
              collection.find({ PartitionKey, RowKey })[0] ?? null,
            );
          }
        },
      ),
    );
  });

  it('finds an entity inserted in a batch, and updated in a batch', () => {
    const collection = entityCollection();
    collection.insert({ PartitionKey: 'a', RowKey: '0', value: 0 });
    expect(collection.findOne({ PartitionKey: 'a', RowKey: '0' })?.value).toBe(0);

    collection.insert([
      { PartitionKey: 'a', RowKey: '1', value: 1 },
      { PartitionKey: 'b', RowKey: '1', value: 2 },
    ]);
    const [first, second] = collection.find({ RowKey: '1' }) as [Entity, Entity];
    collection.update([
      { ...first, value: 3 },
      { ...second, value: 4 },
    ]);

    expect(collection.findOne({ PartitionKey: 'a', RowKey: '1' })?.value).toBe(3);
    expect(collection.findOne({ PartitionKey: 'b', RowKey: '1' })?.value).toBe(4);
  });

  it('finds a listing entry among a partition of many and a record among many records', () => {
    const collection = entityCollection();
    for (let job = 0; job < 500; job++) {
      collection.insert({ PartitionKey: `job-${job}`, RowKey: 'record', value: job });
      collection.insert({ PartitionKey: '2026-12-05', RowKey: `entry-${job}`, value: job });
    }

    expect(collection.findOne({ PartitionKey: 'job-321', RowKey: 'record' })?.value).toBe(321);
    expect(collection.findOne({ PartitionKey: '2026-12-05', RowKey: 'entry-123' })?.value).toBe(123);
    expect(collection.findOne({ PartitionKey: '2026-12-05', RowKey: 'record' })).toBeNull();
    expect(collection.findOne({ PartitionKey: 'job-1', RowKey: 'entry-1' })).toBeNull();
  });

  it('leaves other queries to LokiJS', () => {
    const collection = entityCollection();
    collection.insert({ PartitionKey: 'a', RowKey: '1', value: 1 });
    collection.insert({ PartitionKey: 'a', RowKey: '2', value: 2 });

    expect(collection.findOne({ PartitionKey: 'a', RowKey: { $gt: '1' } })?.value).toBe(2);
    expect(collection.findOne({ PartitionKey: 'a', RowKey: '2', value: 3 })).toBeNull();
    expect(collection.findOne({ value: 2 })?.RowKey).toBe('2');
  });
});
