import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { escapeRegex } from './funcignore';

/**
 * The export conditions Node itself matches. A target reached only through another condition (`module`, `esnext`,
 * `browser`, `react-native`, `types`, …) or field (`module`, `browser`) is for bundlers and never loaded by Node.
 */
const nodeConditions = new Set(['node', 'require', 'import', 'default', 'module-sync', 'node-addons']);
const loadable = /\.(js|cjs|mjs|json|node|wasm)$/;

export interface Violation {
  /** The kept file or package.json that reaches the left-out file. */
  readonly from: string;
  readonly leftOut: string;
}

/**
 * Checks, for a package directory and the dependency files `.funcignore` left out of it, that Node can reach none of
 * them: no package's `main` or Node-matched `exports` target is left out, and no kept module names a left-out file
 * with a relative `require`, `import` or `export … from`. Together with loading the app from the package, this is
 * the proof that the cuts drop nothing the app needs. Paths are relative to `dir`, with `/`.
 */
export function findReachableLeftOuts(
  dir: string,
  keptFiles: readonly string[],
  leftOut: readonly string[],
): Violation[] {
  // Type declarations, maps and documents stay out whoever names them: Node never loads them as modules (a
  // types-only `exports` entry, or `import('./x.d.ts')` in a JSDoc comment, names them without loading them).
  const loadableLeftOut = loadableFiles(leftOut);
  const gone = new Set(loadableLeftOut);
  const violations: Violation[] = [];
  const isGone = (path: string) =>
    ['', '.js', '.cjs', '.mjs', '.json', '/index.js', '/index.json'].some((suffix) =>
      gone.has(path + suffix),
    );

  for (const manifest of keptFiles.filter((path) => path.endsWith('/package.json'))) {
    const packageDir = posix.dirname(manifest);
    let json: { main?: unknown; exports?: unknown };
    try {
      json = JSON.parse(readFileSync(join(dir, manifest), 'utf8')) as typeof json;
    } catch {
      continue;
    }
    const targets = [...(typeof json.main === 'string' ? [json.main] : []), ...nodeTargets(json.exports)];
    for (const target of targets) {
      const path = posix.normalize(posix.join(packageDir, target));
      if (path.includes('*')) {
        const pattern = new RegExp(`^${path.split('*').map(escapeRegex).join('.+')}$`);
        const hit = loadableLeftOut.find((file) => pattern.test(file));
        if (hit) violations.push({ from: manifest, leftOut: hit });
      } else if (isGone(path)) {
        violations.push({ from: manifest, leftOut: path });
      }
    }
  }

  const specifier = /(?:require\s*\(\s*|import\s*\(\s*|\bfrom\s*)(["'])(\.{1,2}\/[^"']*)\1/g;
  for (const file of keptFiles.filter((path) => /\.(js|cjs|mjs)$/.test(path))) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const match of text.matchAll(specifier)) {
      const target = posix.normalize(posix.join(posix.dirname(file), match[2]!));
      if (isGone(target) || isGone(target.replace(/\/$/, '')))
        violations.push({ from: file, leftOut: target });
    }
  }
  return violations;
}

/** The files among `leftOut` that Node could load at all (code, JSON, native addons). */
export function loadableFiles(leftOut: readonly string[]): string[] {
  return leftOut.filter((path) => loadable.test(path));
}

/** Every `exports` target reached through Node's own conditions only. */
function nodeTargets(exports: unknown, conditions: readonly string[] = []): string[] {
  if (typeof exports === 'string') {
    return conditions.every((condition) => nodeConditions.has(condition)) ? [exports] : [];
  }
  if (Array.isArray(exports)) return exports.flatMap((entry) => nodeTargets(entry, conditions));
  if (typeof exports !== 'object' || exports === null) return [];
  return Object.entries(exports).flatMap(([key, value]) =>
    nodeTargets(value, key.startsWith('.') ? conditions : [...conditions, key]),
  );
}
