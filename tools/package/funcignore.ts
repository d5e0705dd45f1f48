/** A `.funcignore` evaluated two ways; a path must be left out (or kept) by both. Paths are relative, with `/`. */
export interface IgnoreRules {
  /** Azure Functions Core Tools' reading (`func azure functionapp publish`). */
  coreToolsDenies(path: string): boolean;
  /** Git's reading, as tools with full gitignore semantics apply it (azd reads `.funcignore` this way). */
  gitignoreDenies(path: string): boolean;
}

export const escapeRegex = (text: string): string => text.replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&');

function patternLines(content: string): string[] {
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

// A port of Core Tools' GitIgnoreParser (src/Cli/func/Common/GitIgnoreParser.cs, itself a port of
// codemix/gitignore-parser): each pattern becomes a regex anchored at the start of the relative path and ended by a
// word boundary (`\b`), `**` any text, `*` one segment's text; a path is denied when a positive pattern matches and
// no negative one does. So a pattern without `**/` only matches from the root, and `test` also matches `test.js`
// (a boundary follows `test`) but not `tests/` (none does).
function coreTools(content: string): (path: string) => boolean {
  const positive: string[] = [];
  const negative: string[] = [];
  for (let line of patternLines(content)) {
    const isNegative = line.startsWith('!');
    if (isNegative) line = line.slice(1);
    if (line.startsWith('/')) line = line.slice(1);
    (isNegative ? negative : positive).push(line);
  }
  const compile = (patterns: string[]) =>
    patterns.length === 0
      ? /$^/
      : new RegExp(
          '^((' +
            [...patterns]
              .sort()
              .map((p) => escapeRegex(p).replaceAll('**', '(.+)').replaceAll('*', '([^\\/]+)'))
              .join(')|(') +
            '))\\b',
        );
  const positives = compile(positive);
  const negatives = compile(negative);
  return (path) => !(negatives.test(path) || !positives.test(path));
}

interface GitRule {
  readonly negative: boolean;
  readonly directoryOnly: boolean;
  readonly regex: RegExp;
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const c = glob[i]!;
    if (glob.startsWith('**/', i)) {
      out += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('/**', i) && i + 3 === glob.length) {
      out += '/.*';
      i += 2;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += escapeRegex(c);
  }
  return out;
}

// Git's rules: a pattern with a `/` before its end is anchored at the root, otherwise it matches at any depth; a
// trailing `/` matches directories only; the last matching pattern wins; nothing inside an excluded directory can
// be re-included.
function gitignore(content: string): (path: string, isDirectory?: boolean) => boolean {
  const rules: GitRule[] = patternLines(content).map((line) => {
    const negative = line.startsWith('!');
    let pattern = negative ? line.slice(1) : line;
    const directoryOnly = pattern.endsWith('/');
    if (directoryOnly) pattern = pattern.slice(0, -1);
    const anchored = pattern.includes('/');
    if (pattern.startsWith('/')) pattern = pattern.slice(1);
    return {
      negative,
      directoryOnly,
      regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globToRegex(pattern)}$`),
    };
  });
  const excluded = (path: string, isDirectory: boolean) => {
    let result = false;
    for (const rule of rules) {
      if (rule.directoryOnly && !isDirectory) continue;
      if (rule.regex.test(path)) result = !rule.negative;
    }
    return result;
  };
  return (path, isDirectory = false) => {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      if (excluded(segments.slice(0, i).join('/'), true)) return true;
    }
    return excluded(path, isDirectory);
  };
}

export function parseIgnoreRules(content: string): IgnoreRules {
  return { coreToolsDenies: coreTools(content), gitignoreDenies: gitignore(content) };
}

/**
 * Whether the gitignore reading leaves out the `node_modules` directory itself. azd refuses `remoteBuild: false`
 * when it does, and turns remote build on when it does and `remoteBuild` is unset (service_target_functionapp.go).
 */
export function excludesNodeModules(content: string): boolean {
  return gitignore(content)('node_modules', true);
}

// Left out whatever the ignore file says: Core Tools skips these directories and files at any depth
// (FileSystemHelpers.GetLocalFiles), azd skips `.azure` directories and `.funcignore` and `local.settings.json`
// files (project_utils.go createDeployableZip). Names compare case-insensitively, as Core Tools compares them.
const alwaysLeftOutDirectories = new Set(['.git', '.vscode', '.azure']);
const alwaysLeftOutFiles = new Set(['.funcignore', '.gitignore', 'local.settings.json', 'project.lock.json']);

/** Whether Core Tools or azd leaves `path` out whatever `.funcignore` says. */
export function alwaysLeftOut(path: string): boolean {
  const segments = path.toLowerCase().split('/');
  const file = segments.pop()!;
  return alwaysLeftOutFiles.has(file) || segments.some((segment) => alwaysLeftOutDirectories.has(segment));
}
