import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
// Every telemetry type the host's adaptive sampling can drop (learn.microsoft.com/azure/azure-functions/functions-host-json).
const sampledTypes = ['Dependency', 'Event', 'Exception', 'PageView', 'Request', 'Trace'];

describe('docs/telemetry.md', () => {
  it("holds to 'nothing is sampled away': host.json samples no telemetry type", () => {
    const doc = readFileSync(join(root, 'docs', 'telemetry.md'), 'utf8');
    const host = JSON.parse(readFileSync(join(root, 'host.json'), 'utf8'));
    const sampling = host.logging?.applicationInsights?.samplingSettings ?? {};
    const excluded = String(sampling.excludedTypes ?? '').split(';');

    const sampled =
      sampling.isEnabled === false ? [] : sampledTypes.filter((type) => !excluded.includes(type));

    expect(doc).toMatch(/Nothing is sampled away/);
    expect(sampled).toEqual([]);
  });
});
