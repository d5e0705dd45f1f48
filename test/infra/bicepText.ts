import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filesBelow } from './filesBelow';

// Just enough of Bicep's syntax to read this repository's templates without the compiler: declarations, resource
// and module bodies, object entries, and the values they resolve to through params, vars and module calls.

export interface BicepFile {
  /** Relative to the repository root, with `/`. */
  readonly path: string;
  readonly text: string;
  /** Every `resource` (nested ones too) and `module` declaration, in order. */
  readonly blocks: readonly BicepBlock[];
  /** `param` and `var` declarations by name. */
  readonly declarations: ReadonlyMap<string, Declaration>;
}

interface Declaration {
  readonly kind: 'param' | 'var';
  /** The value (a param's default) as written; undefined for a param without default. */
  readonly value: string | undefined;
}

export interface BicepBlock {
  readonly file: BicepFile;
  readonly kind: 'resource' | 'module';
  readonly symbol: string;
  /** Resource type (`Microsoft.Web/sites`, or a child's relative type such as `config`) or module path. */
  readonly type: string;
  readonly existing: boolean;
  /** The text between the body's braces. */
  readonly body: string;
}

export function readBicepFiles(
  root: string,
  directory: string,
  exclude: readonly string[] = [],
): BicepFile[] {
  return filesBelow(root, directory)
    .filter((path) => path.endsWith('.bicep') && !exclude.some((prefix) => path.startsWith(prefix)))
    .map((path) => parseBicepFile(path, readFileSync(join(root, path), 'utf8')));
}

/** Index just past a string starting at `start` (a `'`), interpolations and escapes included. */
function skipString(text: string, start: number): number {
  if (text.startsWith("'''", start)) {
    const end = text.indexOf("'''", start + 3);
    return end < 0 ? text.length : end + 3;
  }
  let i = start + 1;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\') i += 2;
    else if (c === "'") return i + 1;
    else if (c === '$' && text[i + 1] === '{') i = skipBalanced(text, i + 1) + 1;
    else i += 1;
  }
  return i;
}

function skipComment(text: string, start: number): number {
  if (text.startsWith('//', start)) {
    const end = text.indexOf('\n', start);
    return end < 0 ? text.length : end;
  }
  const end = text.indexOf('*/', start + 2);
  return end < 0 ? text.length : end + 2;
}

function isCommentStart(text: string, i: number): boolean {
  return text.startsWith('//', i) || text.startsWith('/*', i);
}

/** Index of the bracket closing the one at `open`. */
function skipBalanced(text: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      i = skipString(text, i);
      continue;
    }
    if (isCommentStart(text, i)) {
      i = skipComment(text, i);
      continue;
    }
    if ('{[('.includes(c)) depth += 1;
    else if ('}])'.includes(c)) {
      depth -= 1;
      if (depth === 0) return i;
    }
    i += 1;
  }
  throw new Error(`Unbalanced bracket at ${open}`);
}

/** From `start`, the end of an expression: the first newline outside brackets, strings and comments. */
function expressionEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') return i;
    if (c === "'") i = skipString(text, i);
    else if (isCommentStart(text, i)) {
      if (text.startsWith('//', i)) return skipComment(text, i);
      i = skipComment(text, i);
    } else if ('{[('.includes(c)) i = skipBalanced(text, i) + 1;
    else i += 1;
  }
  return i;
}

function stripTrailingComment(expression: string): string {
  let i = 0;
  while (i < expression.length) {
    if (expression[i] === "'") i = skipString(expression, i);
    else if (expression.startsWith('//', i)) return expression.slice(0, i).trim();
    else if ('{[('.includes(expression[i]!)) i = skipBalanced(expression, i) + 1;
    else i += 1;
  }
  return expression.trim();
}

/** A file parsed once: its blocks and declarations are read here, not on every lookup. */
function parseBicepFile(path: string, text: string): BicepFile {
  const blocks: BicepBlock[] = [];
  const file: BicepFile = { path, text, blocks, declarations: declarationsOf(text) };
  blocks.push(...blocksOf(file));
  return file;
}

function blocksOf(file: BicepFile): BicepBlock[] {
  const found: BicepBlock[] = [];
  const pattern = /^[ \t]*(resource|module)\s+(\w+)\s+'([^']+)'(\s+existing)?\s*=/gm;
  for (const match of file.text.matchAll(pattern)) {
    const open = file.text.indexOf('{', match.index + match[0].length);
    const close = skipBalanced(file.text, open);
    const declared = match[3]!;
    found.push({
      file,
      kind: match[1] as 'resource' | 'module',
      symbol: match[2]!,
      type: match[1] === 'resource' ? declared.split('@')[0]! : declared,
      existing: Boolean(match[4]),
      body: file.text.slice(open + 1, close),
    });
  }
  return found;
}

/** The entries of an object body (the text between its braces), keyed by property name, values as written. */
export function objectEntries(body: string): Map<string, string> {
  const entries = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (/\s|,/.test(c)) {
      i += 1;
      continue;
    }
    if (isCommentStart(body, i)) {
      i = skipComment(body, i);
      continue;
    }
    const key = /^(?:'([^']*)'|([A-Za-z_$][\w$]*))\s*:/.exec(body.slice(i));
    if (key) {
      const valueStart = i + key[0].length;
      const end = expressionEnd(body, valueStart);
      entries.set(key[1] ?? key[2]!, stripTrailingComment(body.slice(valueStart, end)));
      i = end;
    } else {
      // A nested resource declaration or a decorator: not an entry.
      i = expressionEnd(body, i);
    }
  }
  return entries;
}

/** The value text at a dotted path of nested object literals (`properties.functionAppConfig.runtime.name`). */
export function valueAt(body: string, path: string): string | undefined {
  let current: string | undefined = body;
  for (const key of path.split('.')) {
    if (current === undefined) return undefined;
    const value = objectEntries(current).get(key);
    if (value === undefined) return undefined;
    current = value.startsWith('{') ? value.slice(1, skipBalanced(value, 0)) : value;
  }
  return current;
}

/** `param name type = default` and `var name = value` declarations. */
function declarationsOf(text: string): Map<string, Declaration> {
  const found = new Map<string, Declaration>();
  const pattern = /^(param|var)\s+(\w+)\b([^=\n]*)(=?)/gm;
  for (const match of text.matchAll(pattern)) {
    const start = match.index + match[0].length;
    const value = match[4] ? stripTrailingComment(text.slice(start, expressionEnd(text, start))) : undefined;
    found.set(match[2]!, { kind: match[1] as Declaration['kind'], value });
  }
  return found;
}

/** A string literal without interpolation, unquoted; undefined for any other expression. */
export function stringLiteral(expression: string): string | undefined {
  const match = /^'((?:[^'\\$]|\\.|\$(?!\{))*)'$/.exec(expression.trim());
  return match ? match[1]!.replace(/\\(.)/g, '$1') : undefined;
}

/**
 * Follows an expression through vars, params and the module calls that pass them (`infra/main.bicep` calling
 * `app/x.bicep`) down to a literal: a string's value, or the expression itself (`true`, `10`) when it is not a name.
 * Undefined when it depends on something only known at deployment.
 */
export function resolve(
  files: readonly BicepFile[],
  file: BicepFile,
  expression: string,
): string | undefined {
  const trimmed = expression.trim();
  const literal = stringLiteral(trimmed);
  if (literal !== undefined) return literal;
  if (/^(true|false|-?\d+)$/.test(trimmed)) return trimmed;
  if (!/^[A-Za-z_]\w*$/.test(trimmed)) return undefined;
  const declared = file.declarations.get(trimmed);
  if (declared === undefined) return undefined;
  if (declared.kind === 'param') {
    for (const caller of files) {
      for (const module of caller.blocks.filter((b) => b.kind === 'module')) {
        if (!file.path.endsWith(module.type.replace(/^\.\//, ''))) continue;
        const passed = valueAt(module.body, `params.${trimmed}`);
        if (passed !== undefined) return resolve(files, caller, passed);
      }
    }
  }
  return declared.value === undefined ? undefined : resolve(files, file, declared.value);
}
