import type LongType from 'long';

/**
 * The SDK takes sequence numbers as its own `long` instances; this loads the copy it depends on rather than adding a
 * second dependency on the same package. A plain `require`, so that the bundled package holds it; it must resolve to
 * the SDK's own copy (test/unit/queue/serviceBusSdkDependencies.test.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const Long = require('long') as typeof LongType;
