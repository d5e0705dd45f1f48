import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { build } from 'esbuild';
import { filesBelow } from './filesBelow';
import type { SourceMapV3 } from './trimSourceMap';
import { keepSources } from './trimSourceMap';

/** Where the bundle lives in the package. Two levels below the root, as dist/src/functions' files sit below it. */
export const bundleDir = 'dist/bundle';
/** The package's `main`: turns on source maps, then loads the app. */
export const bundleEntry = `${bundleDir}/index.js`;

/** What the bundle leaves to `require` at run time on purpose, though no file of the package holds it, and why. */
export const providedAtRunTime: Readonly<Record<string, string>> = {
  // The worker's own API: its `Module.prototype.require` proxy answers this name (azure-functions-nodejs-worker,
  // src/setupCoreModule.ts). Without it @azure/functions runs in test mode and registers nothing.
  '@azure/functions-core': 'the Functions worker answers it',
};

/**
 * What a bundled package looks up at run time and copes without, and why. Anything else the bundle leaves to
 * `require` fails the build.
 */
export const optionalAtRunTime: Readonly<Record<string, string>> = {
  // @azure/monitor-opentelemetry's statsbeat patch asks `require.resolve` for a file of it inside a try; in the
  // bundle the lookup fails and the patch is skipped. It only counts enabled instrumentations; the app enables none.
  '@opentelemetry/instrumentation': 'looked up inside a try by @azure/monitor-opentelemetry',
};

/** Whether `name` (a package or a file of one) is among {@link providedAtRunTime} or {@link optionalAtRunTime}. */
export function isExpectedAtRunTime(name: string): boolean {
  return Object.keys({ ...providedAtRunTime, ...optionalAtRunTime }).some(
    (known) => name === known || name.startsWith(`${known}/`),
  );
}

export interface UnbundledRequire {
  /** The module name or path the bundle still asks Node for at run time. */
  readonly path: string;
  /** The module (relative to the project) that asks for it, or the output file for a computed name. */
  readonly importer: string;
}

/**
 * Production dependencies the app requires only when it first needs them, each group bundled into a file of its
 * own that Node reads at that first `require`, so that a start-up neither reads nor parses them: the storage SDKs
 * (first store or document call: src/store/storageStores.ts), `@azure/identity` (first token:
 * src/azureCredential.ts) and gRPC (explicit settlement only, through `@azure/functions-extensions-servicebus`).
 * Together they were half of the bundle. What they share with `app.js` (`@azure/core-rest-pipeline`, `tslib`, …) is
 * bundled again in their file: nothing of it is compared by identity across the two (credentials are duck-typed,
 * errors are read by `statusCode` and `name`, Azure SDK tracing is off). The app's own modules stay in `app.js`
 * only: its error classes are compared with `instanceof`.
 */
export const lazyChunks: Readonly<Record<string, readonly string[]>> = {
  'storage.js': ['@azure/data-tables', '@azure/storage-blob'],
  'identity.js': ['@azure/identity'],
  'grpc.js': ['@grpc/grpc-js', '@grpc/proto-loader'],
};

/**
 * Modules of a dependency that it requires at start-up though nothing reads their exports then: in a file of their
 * own, and in `app.js` a stand-in with the same export names, each a getter that reads that file when first used.
 * zod's locales: its error messages in 60-odd languages, a fifth of `app.js`, which zod requires to offer them as
 * `z.locales`; the app never does, and zod's own English messages come from `locales/en.cjs`, required directly.
 */
export const deferredModules: Readonly<Record<string, readonly string[]>> = {
  'zodLocales.js': ['zod/v4/locales/index.cjs'],
};

/** The files of the package that the app reads only when it first needs them, never at start-up. */
export const readWhenFirstUsed: readonly string[] = [
  ...Object.keys(lazyChunks),
  ...Object.keys(deferredModules),
];

export interface BundledApp {
  /** Every file written, relative to the package directory, with `/`, sorted. */
  readonly files: readonly string[];
  /** The package's `main`. */
  readonly entry: string;
  /** Input files (relative to the project, with `/`) per output file of the package. */
  readonly inputs: Readonly<Record<string, readonly string[]>>;
  /** `require`s left in the bundle that name neither a Node built-in module nor a file of the package. */
  readonly unbundled: readonly UnbundledRequire[];
}

// The module Application Insights loads when telemetry starts (src/telemetry/applicationInsightsSdk.ts): a file of
// its own, so that a process without telemetry never reads it, as it never loaded the SDK before bundling.
const telemetryModule = /[\\/]dist[\\/]src[\\/]telemetry[\\/]applicationInsightsSdk\.js$/;
const telemetryChunk = 'applicationInsights.js';
// The stand-ins in app.js for the modules of the lazy chunks, and each chunk's entry.
const lazyNamespace = 'lazy-chunk';

const entryFile = `'use strict';
// Stack traces in src/*.ts lines: source maps on before the app loads (Node applies them to later modules only).
const nodeModule = require('node:module');
if (typeof nodeModule.setSourceMapsSupport === 'function') nodeModule.setSourceMapsSupport(true);
else process.setSourceMapsEnabled(true);
module.exports = require('./app.js');
`;

/**
 * Bundles the compiled app (`root`/dist/src/index.js, so `npm run build` first) and the production dependencies it
 * loads into `packageDir`/dist/bundle with esbuild: `index.js` (the entry), `app.js`, `applicationInsights.js`
 * (loaded only when telemetry starts), their source maps, the files of {@link lazyChunks} and
 * {@link deferredModules} (read when first used), and the one file a bundled package reads next to its code.
 * Resolution is Node's own (`require` from CommonJS, `main` fields, no bundler conditions), so the bundle holds the
 * very files Node loaded from node_modules.
 */
export async function bundleApp(root: string, packageDir: string): Promise<BundledApp> {
  const outdir = join(packageDir, bundleDir);
  mkdirSync(outdir, { recursive: true });
  const splitTelemetry: Plugin = {
    name: 'telemetry-chunk',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /applicationInsightsSdk$/ }, (args) => {
        const target = resolve(args.resolveDir, `${args.path}.js`);
        return telemetryModule.test(target) ? { path: `./${telemetryChunk}`, external: true } : undefined;
      });
    },
  };
  const productionOnly = productionDependenciesOnly(root);
  const options: BuildOptions & { metafile: true } = {
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // As Node resolves: no `module` condition or field, which would pick the ES module builds Node never loads.
    conditions: [],
    mainFields: ['main'],
    external: Object.keys(providedAtRunTime),
    // Whitespace and syntax only: identifiers, and so the function names in stack traces, stay as written. Lines
    // stay short: Node prints the line of an uncaught error's throw site, which must not be a whole module.
    minifyWhitespace: true,
    minifySyntax: true,
    lineLimit: 400,
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    outdir,
  };
  const lazy = lazyChunkPlugin(root);
  const [app, telemetry] = await Promise.all([
    build({
      ...options,
      entryPoints: { app: join(root, 'dist', 'src', 'index.js') },
      plugins: [splitTelemetry, productionOnly, lazy.plugin],
    }),
    build({
      ...options,
      entryPoints: {
        applicationInsights: join(root, 'dist', 'src', 'telemetry', 'applicationInsightsSdk.js'),
      },
      plugins: [productionOnly],
    }),
  ]);
  // Only what app.js asks of them: the modules it required, each by the file Node would have resolved.
  const chunks = await Promise.all(
    Object.entries(lazy.required()).map(([chunk, modules]) =>
      build({
        ...options,
        // Dependencies only: with no mapping of the app's own code, a source map would be empty.
        sourcemap: false,
        entryPoints: undefined,
        outdir: undefined,
        outfile: join(outdir, chunk),
        stdin: {
          contents: chunkEntry(root, modules),
          resolveDir: root,
          sourcefile: `${lazyNamespace}:${chunk}`,
          loader: 'js',
        },
        plugins: [productionOnly],
      }),
    ),
  );
  writeFileSync(join(outdir, 'index.js'), entryFile);

  const inputs: Record<string, string[]> = {};
  const unbundled: UnbundledRequire[] = [];
  const ownFiles = new Set([`./${telemetryChunk}`, ...readWhenFirstUsed.map((chunk) => `./${chunk}`)]);
  for (const metafile of [app.metafile, telemetry.metafile, ...chunks.map((chunk) => chunk.metafile)]) {
    for (const [output, { inputs: used }] of Object.entries(metafile.outputs)) {
      const path = toPackagePath(root, packageDir, output);
      if (!path.endsWith('.js')) continue;
      inputs[path] = Object.keys(used)
        .filter((input) => !input.startsWith(`${lazyNamespace}:`))
        .sort();
      unbundled.push(
        ...computedRequires(join(packageDir, path)).map((call) => ({ path: call, importer: path })),
      );
    }
    unbundled.push(...externalImports(metafile, ownFiles));
    rewriteSourceMaps(root, metafile);
  }
  copyReadAtRunTime(root, packageDir, Object.values(inputs).flat());
  return {
    files: filesBelow(packageDir, bundleDir).sort(),
    entry: bundleEntry,
    inputs,
    unbundled: unbundled.filter(({ path }) => !isExpectedAtRunTime(path)),
  };
}

interface StandIn {
  readonly chunk: string;
  /** For a {@link deferredModules} module: its export names, each a getter on the stand-in. */
  readonly exportNames?: readonly string[];
  /** Whether that module's exports are marked `__esModule` and frozen (zod does both): the stand-in's are too. */
  readonly esModule?: boolean;
  readonly frozen?: boolean;
}

/**
 * Bundles each module of a {@link lazyChunks} package that app.js requires as a stand-in that requires its chunk
 * and takes the module from it, at the moment the app's code first requires it; each of the
 * {@link deferredModules} as a stand-in whose exports read it from its file when first used. `required()` tells,
 * after the build, which modules (by resolved path, relative to the project) each file must hold.
 */
function lazyChunkPlugin(root: string): { plugin: Plugin; required(): Record<string, string[]> } {
  const posixPath = (path: string) => path.split(sep).join('/');
  const lazyPackages = Object.values(lazyChunks).flat();
  const deferredNames = Object.values(deferredModules)
    .flat()
    .map((module) => module.slice(module.lastIndexOf('/') + 1));
  const standInFor = (path: string): StandIn | undefined => {
    const resolved = posixPath(path);
    for (const [chunk, modules] of Object.entries(deferredModules)) {
      if (!modules.some((module) => resolved.endsWith(`/node_modules/${module}`))) continue;
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- its export names, read at build time
      const loaded = require(path) as Record<string, unknown>;
      return {
        chunk,
        exportNames: Object.keys(loaded),
        esModule: loaded.__esModule === true,
        frozen: Object.isFrozen(loaded),
      };
    }
    const chunk = Object.entries(lazyChunks).find(([, packages]) =>
      packages.some((name) => resolved.includes(`/node_modules/${name}/`)),
    )?.[0];
    return chunk ? { chunk } : undefined;
  };
  const asked = (specifier: string) =>
    (/^[^./]/.test(specifier) &&
      lazyPackages.some((name) => specifier === name || specifier.startsWith(`${name}/`))) ||
    deferredNames.some((name) => specifier === name || specifier.endsWith(`/${name}`));
  const required: Record<string, Set<string>> = {};
  const plugin: Plugin = {
    name: 'lazy-chunks',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData !== undefined || args.kind === 'entry-point' || args.namespace !== 'file')
          return undefined;
        if (!asked(args.path)) return undefined;
        const resolved = await pluginBuild.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: lazyNamespace,
        });
        const standIn =
          resolved.errors.length === 0 && !resolved.external ? standInFor(resolved.path) : undefined;
        if (!standIn) return undefined;
        const module = posixPath(relative(root, resolved.path));
        (required[standIn.chunk] ??= new Set()).add(module);
        return { path: module, namespace: lazyNamespace, pluginData: standIn };
      });
      pluginBuild.onResolve({ filter: /^\.\//, namespace: lazyNamespace }, (args) => ({
        path: args.path,
        external: true,
      }));
      pluginBuild.onLoad({ filter: /.*/, namespace: lazyNamespace }, (args) => {
        const { chunk, exportNames, esModule, frozen } = args.pluginData as StandIn;
        const module = `require(${JSON.stringify(`./${chunk}`)})[${JSON.stringify(args.path)}]`;
        if (!exportNames) return { contents: `module.exports = ${module};`, loader: 'js' };
        const getters = exportNames.map(
          (name) =>
            `Object.defineProperty(exports, ${JSON.stringify(name)}, { enumerable: true, get: () => ${module}[${JSON.stringify(name)}] });`,
        );
        if (esModule) getters.unshift('Object.defineProperty(exports, "__esModule", { value: true });');
        if (frozen) getters.push('Object.freeze(exports);');
        return { contents: getters.join('\n'), loader: 'js' };
      });
    },
  };
  return {
    plugin,
    required: () =>
      Object.fromEntries(Object.entries(required).map(([chunk, modules]) => [chunk, [...modules].sort()])),
  };
}

/** A chunk's entry: each module behind a getter, so that a module is evaluated when it is first asked for. */
function chunkEntry(root: string, modules: readonly string[]): string {
  return modules
    .map(
      (module) =>
        `Object.defineProperty(exports, ${JSON.stringify(module)}, { enumerable: true, get: () => require(${JSON.stringify(join(root, module))}) });`,
    )
    .join('\n');
}

/**
 * The project's node_modules also holds the dev dependencies, which a production install (`npm ci --omit=dev`)
 * leaves out. A package that resolves into one of them (the lock file marks it `dev`) is bundled as a module that
 * throws MODULE_NOT_FOUND, as `require` would in production: `debug`, for one, tries `supports-color` inside a try.
 */
function productionDependenciesOnly(root: string): Plugin {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const devDirs = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.dev)
    .map(([path]) => `${join(root, path)}/`);
  const absent = 'absent-in-production';
  return {
    name: 'production-dependencies-only',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === absent || args.kind === 'entry-point') return undefined;
        const resolved = await pluginBuild.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: absent,
        });
        if (resolved.errors.length > 0 || resolved.external) return undefined;
        return devDirs.some((dir) => resolved.path.startsWith(dir))
          ? { path: args.path, namespace: absent }
          : undefined;
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: absent }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(
          `Cannot find module '${args.path}' (a dev dependency, not in a production install)`,
        )}), { code: 'MODULE_NOT_FOUND' });`,
        loader: 'js',
      }));
    },
  };
}

/** External imports that are neither Node built-in modules nor the bundle's own files. */
function externalImports(metafile: Metafile, ownFiles: ReadonlySet<string>): UnbundledRequire[] {
  const builtins = new Set(builtinModules);
  const found: UnbundledRequire[] = [];
  for (const [importer, { imports }] of Object.entries(metafile.inputs)) {
    for (const { path, external } of imports) {
      if (!external || ownFiles.has(path)) continue;
      if (path.startsWith('node:') || builtins.has(path)) continue;
      found.push({ path, importer });
    }
  }
  return found;
}

/** `require(…)` calls whose argument is not a string literal: the bundler cannot follow them. */
function computedRequires(file: string): string[] {
  // A comment inside the parentheses (`require(/* webpackIgnore: true */ "fs")`) is not an argument.
  const text = readFileSync(file, 'utf8').replace(/require\(\s*\/\*[^*]*\*\/\s*/g, 'require(');
  const calls = text.matchAll(/(?<![\w$.])require\(\s*([^"'\s)][^)]{0,80})\)/g);
  return [...calls].map((match) => `require(${match[1]})`);
}

/**
 * The app's own mappings only, with source paths relative to the package root as if the sources lay beside it
 * (`../../src/index.ts` from dist/bundle), not to wherever the package was built: a stack frame in the app names its
 * `src/…ts` line; one in a dependency names the bundle's line, below that package's `// node_modules/…` marker.
 * Mapping the dependencies too would make Node decode about 3 MB of mappings at the first stack trace (some 200 ms).
 */
function rewriteSourceMaps(root: string, metafile: Metafile): void {
  for (const output of Object.keys(metafile.outputs).filter((path) => path.endsWith('.map'))) {
    const mapFile = resolve(root, output);
    const map = JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapV3;
    const fromRoot = (source: string) =>
      relative(root, resolve(dirname(mapFile), source))
        .split('\\')
        .join('/');
    const trimmed = keepSources(map, (source) => !fromRoot(source).split('/').includes('node_modules'));
    trimmed.sources = trimmed.sources.map((source) => posix.join('..', '..', fromRoot(source)));
    writeFileSync(mapFile, JSON.stringify(trimmed));
  }
}

/**
 * The one bundled package that reads a file next to its own code: the Service Bus SDK-type binding loads its gRPC
 * definition from `__dirname/proto/settlement.proto`, which in the bundle is dist/bundle/proto.
 */
function copyReadAtRunTime(root: string, packageDir: string, inputs: readonly string[]): void {
  const extension = inputs.find((path) =>
    path.endsWith(
      'node_modules/@azure/functions-extensions-servicebus/dist/azure-functions-extensions-servicebus.js',
    ),
  );
  if (!extension) return;
  const protoDir = join(root, dirname(extension), 'proto');
  mkdirSync(join(packageDir, bundleDir, 'proto'), { recursive: true });
  for (const name of readdirSync(protoDir)) {
    copyFileSync(join(protoDir, name), join(packageDir, bundleDir, 'proto', name));
  }
}

function toPackagePath(root: string, packageDir: string, output: string): string {
  return relative(packageDir, resolve(root, output)).split('\\').join('/');
}
