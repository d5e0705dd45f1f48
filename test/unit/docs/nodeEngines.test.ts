import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** Whether one `engines.node` alternative (`>=22.0.0`, `^20.9`, `20 || >=22`'s parts) admits a Node 20 release. */
function admitsNode20(alternative: string): boolean {
  const range = alternative.trim();
  const lowerBound = /^>=\s*v?(\d+)/.exec(range);
  if (lowerBound) return Number(lowerBound[1]) <= 20;
  const major = /^[\^~]?\s*v?(\d+)(\.|$|\s)/.exec(range);
  if (major) return Number(major[1]) === 20;
  return true;
}

describe('README: what npm says on Node 20', () => {
  it('names every installed package that asks for a newer Node, which are what npm warns EBADENGINE about', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { engines?: { node?: string } | string[] }>;
    };
    const readme = readFileSync(join(root, 'README.md'), 'utf8');

    const newerOnly = Object.entries(lock.packages)
      .filter(([path, entry]) => {
        const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return path !== '' && node !== undefined && !node.split('||').some(admitsNode20);
      })
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));

    expect([...new Set(newerOnly)].sort()).toEqual([
      '@azure/core-process',
      '@azure/identity',
      '@azure/monitor-opentelemetry',
      '@azure/monitor-opentelemetry-exporter',
    ]);
    expect(readme).toContain('On Node 20, npm prints four `EBADENGINE` warnings');
    for (const name of ['@azure/identity', '@azure/core-process', '@azure/monitor-opentelemetry*']) {
      expect(readme).toContain(`\`${name}\``);
    }
  });
});
