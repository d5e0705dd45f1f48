import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { filesBelow } from './filesBelow';
import { parseIgnoreRules } from './funcignore';
import { productionFunctionTable, productionSettings } from './productionApp';

const root = join(__dirname, '..', '..');
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };

// `npm run build` output when it is there and newer than every source (.ci/run builds before testing); otherwise a
// fresh build into a scratch directory inside node_modules, so the compiled code still resolves its dependencies.
let outDir = join(root, 'dist');
let scratch: string | undefined;

beforeAll(() => {
  const entry = join(outDir, 'src', 'index.js');
  const newestSource = Math.max(...filesBelow(root, 'src').map((path) => statSync(join(root, path)).mtimeMs));
  if (existsSync(entry) && statSync(entry).mtimeMs >= newestSource) return;
  scratch = join(root, 'node_modules', '.cache', 'sdap-jobs-packaging-test', String(process.pid));
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', scratch],
    { cwd: root, stdio: 'pipe' },
  );
  outDir = scratch;
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The package's files matching a package.json `main` entry (`dist/src/…`, with `{a,b}` and `*` as Core Tools reads them). */
function mainFiles(main: string): string[] {
  const braces = /\{([^}]*)\}/.exec(main);
  const patterns = braces ? braces[1]!.split(',').map((part) => main.replace(braces[0], part)) : [main];
  // Below dist/src only: dist/package, the assembled package azure.yaml deploys, holds thousands of files.
  const built = filesBelow(outDir, 'src').map((path) => `dist/${path}`);
  return patterns.flatMap((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .replace(/[.+^$()|[\]\\]/g, '\\$&')
        .replaceAll('**/', '(?:.*/)?')
        .replaceAll('*', '[^/]*')}$`,
    );
    const matched = built.filter((path) => regex.test(path));
    expect([pattern, matched.length > 0]).toEqual([pattern, true]);
    return matched;
  });
}

interface Registration {
  kind: string;
  name: string;
  options: Record<string, unknown>;
}

/** Loads the compiled entry with production settings and a stand-in for the worker's `app`, recording registrations. */
async function registrationsOfCompiledEntry(): Promise<Registration[]> {
  const registrations: Registration[] = [];
  const terminateHooks: Array<() => unknown> = [];
  const saved = { ...process.env };
  Object.assign(process.env, productionSettings);
  try {
    jest.isolateModules(() => {
      jest.doMock('@azure/functions', () => ({
        ...jest.requireActual('@azure/functions'),
        app: {
          setup: () => undefined,
          http: (name: string, options: Record<string, unknown>) =>
            registrations.push({ kind: 'http', name, options }),
          serviceBusQueue: (name: string, options: Record<string, unknown>) =>
            registrations.push({ kind: 'serviceBusQueue', name, options }),
          timer: (name: string, options: Record<string, unknown>) =>
            registrations.push({ kind: 'timer', name, options }),
          hook: {
            appStart: () => undefined,
            appTerminate: (hook: () => unknown) => terminateHooks.push(hook),
          },
        },
      }));
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the compiled entry, loaded as the host loads it
      require(join(outDir, 'src', 'index.js'));
    });
  } finally {
    process.env = saved;
  }
  for (const hook of terminateHooks) await hook();
  return registrations;
}

describe('the compiled entry `func start` loads, and what the deployment package takes from the project', () => {
  it('has package.json "main" match the built entry', () => {
    const matched = mainFiles(packageJson.main);

    expect(matched).toContain('dist/src/index.js');
  });

  it('registers every function of the function table from the compiled entry, as the table defines it', async () => {
    const table = productionFunctionTable();

    const registrations = await registrationsOfCompiledEntry();

    expect(table.map((definition) => definition.kind)).toEqual(
      expect.arrayContaining(['serviceBusQueue', 'timer']),
    );
    expect(registrations.map(({ kind, name }) => ({ kind, name }))).toEqual(
      table.map(({ kind, name }) => ({ kind, name })),
    );
    for (const definition of table) {
      const registered = registrations.find((registration) => registration.name === definition.name)!;
      if (definition.kind === 'http') {
        expect(registered.options).toMatchObject({
          route: definition.route,
          authLevel: definition.authLevel,
          methods: definition.methods,
        });
      } else if (definition.kind === 'timer') {
        expect(registered.options).toMatchObject({ schedule: definition.schedule });
      } else {
        expect(registered.options).toMatchObject({
          queueName: definition.queueName,
          connection: definition.connection,
        });
      }
    }
  });

  it('holds a compiled file for each function of the table', () => {
    const missing = productionFunctionTable()
      .map((definition) => join(outDir, 'src', 'functions', `${definition.name}.js`))
      .filter((path) => !existsSync(path));

    expect(missing).toEqual([]);
  });

  describe('.funcignore', () => {
    const rules = parseIgnoreRules(readFileSync(join(root, '.funcignore'), 'utf8'));
    const readings = [
      ['Core Tools', rules.coreToolsDenies],
      ['gitignore', rules.gitignoreDenies],
    ] as const;
    const filesUnder = (dir: string) => (existsSync(join(root, dir)) ? filesBelow(root, dir) : []);

    it('is read as Core Tools reads it (anchored, `*` one or more characters, ended by a word boundary) and as git reads it', () => {
      const anyDepth = parseIgnoreRules('src\ntsconfig*.json\n*.ts\n!*.d.ts\n');
      const anchored = parseIgnoreRules('/src\n/dist/test\n/test\n');

      expect(anyDepth.coreToolsDenies('src/index.ts')).toBe(true);
      expect(anyDepth.coreToolsDenies('dist/src/index.js')).toBe(false);
      expect(anyDepth.gitignoreDenies('dist/src/index.js')).toBe(true);
      expect(anyDepth.coreToolsDenies('tsconfig.json')).toBe(false);
      expect(anyDepth.gitignoreDenies('tsconfig.json')).toBe(true);
      expect(anyDepth.coreToolsDenies('a.ts') && anyDepth.gitignoreDenies('a.ts')).toBe(true);
      expect(anyDepth.coreToolsDenies('a.d.ts') || anyDepth.gitignoreDenies('a.d.ts')).toBe(false);
      expect(anchored.gitignoreDenies('dist/src/index.js')).toBe(false);
      expect(anchored.gitignoreDenies('dist/test/unit/a.test.js')).toBe(true);
      expect(anchored.coreToolsDenies('dist/test/unit/a.test.js')).toBe(true);
      // Core Tools ends each pattern at a word boundary: `test` reaches `test.js` and `test/`, never `tests/`.
      expect(anchored.coreToolsDenies('test.js')).toBe(true);
      expect(anchored.coreToolsDenies('tests/a.js')).toBe(false);
      expect(anchored.gitignoreDenies('tests/a.js')).toBe(false);
    });

    it.each(readings)(
      'keeps out tests, tools, sources, local settings and dev files (%s reading)',
      (_, denies) => {
        const mustLeaveOut = [
          ...filesUnder('test'),
          ...filesUnder('tools'),
          ...filesUnder('src'),
          ...filesUnder('bench'),
          ...filesUnder('infra'),
          'local.settings.json',
          'tsconfig.json',
          'tsconfig.build.json',
          'jest.config.js',
          'eslint.config.mjs',
          '.prettierrc',
          '.prettierignore',
          '.gitignore',
          '.git/config',
          '.ci/run',
          'azure.yaml',
          '.azure/dev/.env',
          'README.md',
          'dist/test/unit/config.test.js',
          'dist/tools/local-host/main.js',
          'dist/bench/bench.js',
          'coverage/lcov.info',
          'test-output/dashboard/embedded-job-detail.png',
          'dist/package/host.json',
          'dist/package/node_modules/zod/index.js',
          'dist/package.zip',
          // The bundle replaces the compiled app and the lock file's dependencies (tools/package/bundleApp.ts).
          'dist/src/index.js',
          'package-lock.json',
          'interop/dotnet/SdapJobs.Interop.Tests.csproj',
          'interop/dotnet/bin/Debug/net10.0/SdapJobs.Interop.Tests.dll',
          'examples/handlers/invoiceSend.ts',
          'a-new-folder/anything.txt',
        ];

        expect(mustLeaveOut.filter((path) => !denies(path))).toEqual([]);
      },
    );

    it.each(readings)(
      'keeps package.json, host.json and the dashboard, and does not leave out node_modules, which azd checks (%s reading)',
      (_, denies) => {
        const mustKeep = [
          'package.json',
          'host.json',
          ...filesUnder('dashboard'),
          'node_modules/@azure/functions/package.json',
        ];

        expect(filesUnder('dashboard').length).toBeGreaterThan(0);
        expect(mustKeep.filter((path) => denies(path))).toEqual([]);
      },
    );
  });
});
