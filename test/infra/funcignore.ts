/** A `.funcignore` evaluated two ways; a path must be left out (or kept) by both. */
export interface IgnoreRules {
  /** Azure Functions Core Tools' reading (`func azure functionapp publish`). */
  coreToolsDenies(path: string): boolean;
  /** Git's reading, as tools with full gitignore semantics apply it. */
  gitignoreDenies(path: string): boolean;
}

const escapeRegex = (text: string) => text.replace(/[-[\]/{}()+?.\\^$|]/g, '\\$&');

function patternLines(content: string): string[] {
  return content
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

// A port of Core Tools' GitIgnoreParser (itself a port of codemix/gitignore-parser): each pattern becomes a regex
// anchored at the start of the relative path only, `**` any text, `*` one segment's text; a path is denied when a
// positive pattern matches and no negative one does.
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
            '))',
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
function gitignore(content: string): (path: string) => boolean {
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
  return (path) => {
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i += 1) {
      if (excluded(segments.slice(0, i).join('/'), true)) return true;
    }
    return excluded(path, false);
  };
}

export function parseIgnoreRules(content: string): IgnoreRules {
  return { coreToolsDenies: coreTools(content), gitignoreDenies: gitignore(content) };
}
