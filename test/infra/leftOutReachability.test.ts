import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findReachableLeftOuts, loadableFiles } from '../../tools/package/leftOutReachability';

let dir: string;

function write(files: Record<string, string>): string[] {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return Object.keys(files);
}

const dualBuild = {
  'node_modules/dual/package.json': JSON.stringify({
    main: 'build/src/index.js',
    module: 'build/esm/index.js',
    exports: {
      '.': {
        esnext: './build/esnext/index.js',
        module: './build/esm/index.js',
        types: './build/src/index.d.ts',
        default: './build/src/index.js',
      },
    },
  }),
  'node_modules/dual/build/src/index.js': "module.exports = require('./impl');",
  'node_modules/dual/build/src/impl.js': 'module.exports = 1;',
  'node_modules/dual/build/src/index.d.ts': 'export {};',
  'node_modules/dual/build/esm/index.js': "export * from './impl.js';",
  'node_modules/dual/build/esm/impl.js': 'export const a = 1;',
  'node_modules/dual/build/esnext/index.js': 'export const a = 1;',
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdap-jobs-reachability-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('findReachableLeftOuts', () => {
  it('accepts leaving out builds reached only through bundler conditions, and type declarations', () => {
    const files = write(dualBuild);
    const leftOut = files.filter((path) => /build\/(esm|esnext)\/|\.d\.ts$/.test(path));
    const kept = files.filter((path) => !leftOut.includes(path));

    expect(findReachableLeftOuts(dir, kept, leftOut)).toEqual([]);
  });

  it("reports a left-out file that a package's main or Node-matched exports target names", () => {
    const files = write(dualBuild);
    const leftOut = files.filter((path) => path.includes('/build/src/'));
    const kept = files.filter((path) => !leftOut.includes(path));

    expect(findReachableLeftOuts(dir, kept, leftOut)).toEqual(
      expect.arrayContaining([
        { from: 'node_modules/dual/package.json', leftOut: 'node_modules/dual/build/src/index.js' },
      ]),
    );
  });

  it('reports a left-out file that a kept module requires or imports by a relative path', () => {
    const files = write({
      ...dualBuild,
      'node_modules/dual/build/src/index.js': "module.exports = require('../esm/impl.js');",
    });
    const leftOut = files.filter((path) => /build\/(esm|esnext)\//.test(path));
    const kept = files.filter((path) => !leftOut.includes(path));

    expect(findReachableLeftOuts(dir, kept, leftOut)).toEqual([
      { from: 'node_modules/dual/build/src/index.js', leftOut: 'node_modules/dual/build/esm/impl.js' },
    ]);
  });

  it('reports a left-out file that an exports subpath pattern reaches', () => {
    const files = write({
      'node_modules/wild/package.json': JSON.stringify({ exports: { './*': { require: './lib/*.js' } } }),
      'node_modules/wild/lib/a.js': 'module.exports = 1;',
    });

    expect(findReachableLeftOuts(dir, files.slice(0, 1), files.slice(1))).toEqual([
      { from: 'node_modules/wild/package.json', leftOut: 'node_modules/wild/lib/a.js' },
    ]);
  });

  it('counts code, JSON and native addons as loadable, and declarations, maps and documents as not', () => {
    expect(
      loadableFiles([
        'a.js',
        'b.cjs',
        'c.mjs',
        'd.json',
        'e.node',
        'f.wasm',
        'g.d.ts',
        'h.js.map',
        'README.md',
      ]),
    ).toEqual(['a.js', 'b.cjs', 'c.mjs', 'd.json', 'e.node', 'f.wasm']);
  });
});
