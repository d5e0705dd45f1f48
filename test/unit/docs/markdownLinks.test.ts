import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** Markdown without fenced code blocks and inline code, where `[x](y)` and `# x` mean nothing. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens. */
function anchorsOf(markdown: string): Set<string> {
  const headings = [...markdown.replace(/^```[\s\S]*?^```$/gm, '').matchAll(/^#{1,6} (.+)$/gm)];
  return new Set(
    headings.map((heading) =>
      heading[1]!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/ /g, '-'),
    ),
  );
}

/** The relative links (no scheme) of the Markdown `text`, outside code. */
function relativeLinks(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1]!)
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** The relative links in `text`, the content of `path` (from the root), that lead to no existing file or heading. */
function brokenLinks(path: string, text = readFileSync(join(root, path), 'utf8')): string[] {
  return relativeLinks(text).filter((target) => {
    const [file, anchor] = target.split('#') as [string, string | undefined];
    const resolved = file === '' ? join(root, path) : join(root, dirname(path), file);
    if (!existsSync(resolved) || relative(root, resolved).startsWith('..')) return true;
    if (anchor === undefined || !statSync(resolved).isFile() || !resolved.endsWith('.md')) return false;
    return !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor);
  });
}

describe('links in README.md and docs/', () => {
  it('finds the documents to check', () => {
    expect(documents).toEqual(expect.arrayContaining(['README.md', 'docs/api.md']));
  });

  it.each(documents)('%s links only to files and headings that exist', (path) => {
    expect(brokenLinks(path)).toEqual([]);
  });

  it('reads a link to a missing file or heading as broken, and ignores code and absolute URLs', () => {
    const text = [
      '[ok](docs/api.md#errors) [gone](docs/nothing.md) [no heading](docs/api.md#nothing)',
      '[web](https://example.com/x.md) `[code](docs/nothing.md)`',
      '```sh\n[block](docs/nothing.md)\n```',
    ].join('\n');

    expect(brokenLinks('README.md', text)).toEqual(['docs/nothing.md', 'docs/api.md#nothing']);
    expect(anchorsOf('# Settlement modes (`Jobs__ServiceBus__Settlement`)\n')).toEqual(
      new Set(['settlement-modes-jobs__servicebus__settlement']),
    );
  });

  it('has links to check in the README', () => {
    expect(relativeLinks(readFileSync(join(root, 'README.md'), 'utf8')).length).toBeGreaterThan(10);
  });
});
