import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';

/** The parts of V8's `.cpuprofile` (what `node --cpu-prof` and the inspector's `Profiler.stop` write) read here. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

interface Row {
  self: number;
  total: number;
}

const root = resolve(__dirname, '..', '..');

/**
 * Where a profile's time went: self and total time by function, and self time by source file and by package (our
 * code by file, a dependency by its name, Node's own code as `node:`, and V8's pseudo-frames: GC, idle, program).
 * Total counts a function once per sample however often it recurs.
 */
export function printProfileSummary(profile: CpuProfile, { top = 40 }: { top?: number } = {}): void {
  const parent = new Map<number, number>();
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const functions = new Map<string, Row>();
  const files = new Map<string, Row>();
  const packages = new Map<string, Row>();
  let all = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    all += micros;
    const seenFunctions = new Set<string>();
    const seenPackages = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (!node || node.callFrame.functionName === '(root)') continue;
      const self = at === id;
      const fn = functionKey(node.callFrame);
      add(functions, fn, micros, self, !seenFunctions.has(fn));
      seenFunctions.add(fn);
      const pkg = packageOf(node.callFrame);
      add(packages, pkg, micros, self, !seenPackages.has(pkg));
      seenPackages.add(pkg);
      if (self) add(files, fileOf(node.callFrame), micros, true, false);
    }
  });

  const percent = (micros: number) => `${((100 * micros) / all).toFixed(1).padStart(5)} %`;
  const table = (title: string, rows: Map<string, Row>, by: keyof Row, count: number) => {
    console.log(`${title} (of ${(all / 1000).toFixed(0)} ms sampled):`);
    for (const [key, row] of [...rows].sort((a, b) => b[1][by] - a[1][by]).slice(0, count))
      console.log(`  self ${percent(row.self)}  total ${percent(row.total)}  ${key}`);
  };
  table('By package, self', packages, 'self', 25);
  table('By package, total (inclusive)', packages, 'total', 25);
  table('By source file, self', files, 'self', top);
  table('By function, self', functions, 'self', top);
  table('By function, total (inclusive)', functions, 'total', top);
}

function add(rows: Map<string, Row>, key: string, micros: number, self: boolean, first: boolean): void {
  const row = rows.get(key) ?? { self: 0, total: 0 };
  if (self) row.self += micros;
  if (first) row.total += micros;
  rows.set(key, row);
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? new URL(url).pathname : url;
  return path.startsWith('/') ? relative(root, path) : path;
}

function functionKey({ functionName, url, lineNumber }: CpuProfile['nodes'][number]['callFrame']): string {
  return url ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}` : functionName;
}

function fileOf({ functionName, url }: CpuProfile['nodes'][number]['callFrame']): string {
  return url ? shortUrl(url) : functionName;
}

function packageOf({ functionName, url }: CpuProfile['nodes'][number]['callFrame']): string {
  if (!url) return functionName;
  if (url.startsWith('node:')) return 'node:';
  const path = shortUrl(url);
  const modules = path.lastIndexOf('node_modules/');
  if (modules < 0) return path.split('/').slice(0, 3).join('/');
  const [scope, name] = path.slice(modules + 'node_modules/'.length).split('/');
  return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? path);
}

// `node dist/bench/cpuProfileSummary.js <file.cpuprofile>`: the same summary for a profile from `node --cpu-prof`.
if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/bench/cpuProfileSummary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  printProfileSummary(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, {
    top: Number(process.argv[3] ?? 40),
  });
}
