import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { isStale } = require('../../../tools/cli/runBuilt.js') as { isStale(root: string): boolean };

describe('runBuilt: when the CLIs compile before they run', () => {
  let root: string;
  const at = (path: string, seconds: number) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
    utimesSync(path, seconds, seconds);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'run-built-'));
    at(join(root, 'src', 'config.ts'), 1_000);
    at(join(root, 'tools', 'jobs', 'main.ts'), 1_000);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('when nothing was built, then it compiles', () => {
    expect(isStale(root)).toBe(true);
  });

  it('when the build is newer than every source, then it runs what is built', () => {
    at(join(root, 'dist', '.tsbuildinfo'), 2_000);

    expect(isStale(root)).toBe(false);
  });

  it.each([['src/jobs/support/logger.ts'], ['tools/dlq/main.ts'], ['tsconfig.build.json'], ['package.json']])(
    'when %s changed after the build, then it compiles',
    (changed) => {
      at(join(root, 'dist', '.tsbuildinfo'), 2_000);
      at(join(root, changed), 3_000);

      expect(isStale(root)).toBe(true);
    },
  );

  it('when only a file the build does not read changed (docs, tests), then it runs what is built', () => {
    at(join(root, 'dist', '.tsbuildinfo'), 2_000);
    at(join(root, 'docs', 'api.md'), 3_000);
    at(join(root, 'test', 'unit', 'x.test.ts'), 3_000);

    expect(isStale(root)).toBe(false);
  });
});
