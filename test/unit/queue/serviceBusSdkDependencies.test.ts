import { createRequire } from 'node:module';

// src/queue loads `rhea-promise` (the AMQP encoder) and `long` (sequence numbers) with a plain `require`, so that the
// bundled deployment package holds them; each must be the copy @azure/service-bus itself loads, or the app would
// encode and compare with a second copy of what the SDK uses.
describe('the Service Bus SDK packages the app uses directly', () => {
  it.each(['rhea-promise', 'long'])('resolves %s to the copy @azure/service-bus loads', (name) => {
    const fromSdk = createRequire(require.resolve('@azure/service-bus'));

    expect(require.resolve(name)).toBe(fromSdk.resolve(name));
  });
});
