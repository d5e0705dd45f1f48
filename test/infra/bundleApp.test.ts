import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleApp } from '../../tools/package/bundleApp';

// A project in miniature: the compiled entry and telemetry module bundleApp starts from, a production dependency,
// a dev dependency (by the lock file) and the worker's module, which only the worker answers.
let root: string;

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sdap-jobs-bundle-'));
  write({
    'package-lock.json': JSON.stringify({
      packages: { '': {}, 'node_modules/prod': {}, 'node_modules/devonly': { dev: true } },
    }),
    'node_modules/prod/package.json': JSON.stringify({ main: 'lib/index.js', module: 'esm/index.js' }),
    'node_modules/prod/lib/index.js': "exports.name = 'prod (CommonJS, as Node loads it)';",
    'node_modules/prod/esm/index.js': "export const name = 'prod (ES module)';",
    'node_modules/devonly/index.js': "exports.name = 'devonly';",
    'dist/src/telemetry/applicationInsightsSdk.js': "exports.sdk = 'telemetry';",
    'dist/src/index.js': [
      "try { require('@azure/functions-core'); } catch { /* outside the worker */ }",
      "let optional = 'absent';",
      "try { optional = require('devonly').name; } catch (error) { optional = error.code; }",
      "exports.prod = require('prod').name;",
      'exports.optional = optional;',
      "exports.telemetry = () => Promise.resolve().then(() => require('./telemetry/applicationInsightsSdk'));",
    ].join('\n'),
  });
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('bundleApp', () => {
  it('bundles as Node resolves, leaves a dev dependency absent as production would, and keeps telemetry in a file of its own', async () => {
    const out = join(root, 'out');

    const bundle = await bundleApp(root, out);

    const run = spawnSync(
      process.execPath,
      [
        '-e',
        `const app = require(${JSON.stringify(join(out, bundle.entry))}); app.telemetry().then((t) => console.log(JSON.stringify({ prod: app.prod, optional: app.optional, telemetry: t.sdk, cached: Object.keys(require.cache).filter((f) => f.includes('applicationInsights')).length })))`,
      ],
      { cwd: out, encoding: 'utf8' },
    );
    expect(JSON.parse(run.stdout)).toEqual({
      prod: 'prod (CommonJS, as Node loads it)',
      optional: 'MODULE_NOT_FOUND',
      telemetry: 'telemetry',
      cached: 1,
    });
    expect(bundle.unbundled).toEqual([]);
    expect(bundle.files).toEqual([
      'dist/bundle/app.js',
      'dist/bundle/app.js.map',
      'dist/bundle/applicationInsights.js',
      'dist/bundle/applicationInsights.js.map',
      'dist/bundle/index.js',
    ]);
    expect(readFileSync(join(out, 'dist/bundle/app.js'), 'utf8')).not.toContain("'telemetry'");
  });

  it('bundles a package of a lazy group into a file of its own, read at the first require of it', async () => {
    write({
      'package-lock.json': JSON.stringify({
        packages: { '': {}, 'node_modules/prod': {}, 'node_modules/@azure/data-tables': {} },
      }),
      'node_modules/@azure/data-tables/package.json': JSON.stringify({ main: 'index.js' }),
      'node_modules/@azure/data-tables/index.js': [
        'globalThis.tablesEvaluated = (globalThis.tablesEvaluated ?? 0) + 1;',
        "exports.TableClient = class TableClient { name() { return 'TableClient ' + require('prod').name; } };",
      ].join('\n'),
      'dist/src/telemetry/applicationInsightsSdk.js': "exports.sdk = 'telemetry';",
      'dist/src/index.js': [
        "exports.prod = require('prod').name;",
        "exports.tables = () => new (require('@azure/data-tables').TableClient)().name();",
        "exports.sameModule = () => require('@azure/data-tables') === require('@azure/data-tables');",
      ].join('\n'),
    });
    const out = join(root, 'out');

    const bundle = await bundleApp(root, out);

    const script = [
      `const app = require(${JSON.stringify(join(out, bundle.entry))});`,
      "const read = () => Object.keys(require.cache).filter((f) => f.endsWith('storage.js')).length;",
      'const atStart = read();',
      'const name = app.tables();',
      'console.log(JSON.stringify({ atStart, name, sameModule: app.sameModule(), evaluated: globalThis.tablesEvaluated, read: read() }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', script], { cwd: out, encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual({
      atStart: 0,
      name: 'TableClient prod (CommonJS, as Node loads it)',
      sameModule: true,
      evaluated: 1,
      read: 1,
    });
    expect(bundle.files).toContain('dist/bundle/storage.js');
    expect(bundle.inputs['dist/bundle/storage.js']).toEqual([
      'node_modules/@azure/data-tables/index.js',
      'node_modules/prod/lib/index.js',
    ]);
    expect(readFileSync(join(out, 'dist/bundle/app.js'), 'utf8')).not.toContain('tablesEvaluated');
    expect(bundle.unbundled).toEqual([]);
  });

  it("leaves zod's locales to a file of their own, behind a stand-in with the same frozen exports, read when one is used", async () => {
    write({
      'package-lock.json': JSON.stringify({ packages: { '': {}, 'node_modules/zod': {} } }),
      'node_modules/zod/package.json': JSON.stringify({ main: 'index.cjs' }),
      'node_modules/zod/index.cjs': [
        "exports.locales = require('./v4/locales/index.cjs');",
        "exports.en = require('./v4/locales/en.cjs');",
      ].join('\n'),
      'node_modules/zod/v4/locales/en.cjs': "exports.message = () => 'Invalid input';",
      'node_modules/zod/v4/locales/fr.cjs': "exports.message = () => 'Entrée invalide';",
      'node_modules/zod/v4/locales/index.cjs': [
        "Object.defineProperty(exports, '__esModule', { value: true });",
        'globalThis.localesEvaluated = (globalThis.localesEvaluated ?? 0) + 1;',
        "exports.en = require('./en.cjs');",
        "exports.fr = require('./fr.cjs');",
        'Object.freeze(exports);',
      ].join('\n'),
      'dist/src/telemetry/applicationInsightsSdk.js': "exports.sdk = 'telemetry';",
      'dist/src/index.js': "exports.zod = require('zod');",
    });
    const out = join(root, 'out');

    const bundle = await bundleApp(root, out);

    const script = [
      `const { zod } = require(${JSON.stringify(join(out, bundle.entry))});`,
      "const read = () => Object.keys(require.cache).filter((f) => f.endsWith('zodLocales.js')).length;",
      'const atStart = { read: read(), en: zod.en.message(), evaluated: globalThis.localesEvaluated ?? 0 };',
      'const locales = zod.locales;',
      'console.log(JSON.stringify({ atStart, names: Object.keys(locales), esModule: locales.__esModule, frozen: Object.isFrozen(locales),',
      '  fr: locales.fr.message(), evaluated: globalThis.localesEvaluated, read: read() }));',
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', script], { cwd: out, encoding: 'utf8' });
    expect(JSON.parse(run.stdout)).toEqual({
      atStart: { read: 0, en: 'Invalid input', evaluated: 0 },
      names: ['en', 'fr'],
      esModule: true,
      frozen: true,
      fr: 'Entrée invalide',
      evaluated: 1,
      read: 1,
    });
    expect(bundle.inputs['dist/bundle/zodLocales.js']).toEqual([
      'node_modules/zod/v4/locales/en.cjs',
      'node_modules/zod/v4/locales/fr.cjs',
      'node_modules/zod/v4/locales/index.cjs',
    ]);
    expect(bundle.inputs['dist/bundle/app.js']).toEqual([
      'dist/src/index.js',
      'node_modules/zod/index.cjs',
      'node_modules/zod/v4/locales/en.cjs',
    ]);
  });

  it('reports a require it cannot follow and a package it could not bundle', async () => {
    write({
      'dist/src/index.js': [
        "const name = 'prod';",
        'exports.computed = () => require(`${name}/lib/index.js`);',
        "exports.resolved = () => require.resolve('not-installed');",
      ].join('\n'),
    });

    const bundle = await bundleApp(root, join(root, 'out'));

    expect(bundle.unbundled).toEqual(
      expect.arrayContaining([
        { path: 'require(`${name}/lib/index.js`)', importer: 'dist/bundle/app.js' },
        { path: 'not-installed', importer: 'dist/src/index.js' },
      ]),
    );
  });
});
