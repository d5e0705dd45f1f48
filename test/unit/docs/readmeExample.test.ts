import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The contents of every fenced code block in `markdown` whose info string is `language`. */
function codeBlocks(markdown: string, language: string): string[] {
  const fence = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...markdown.matchAll(fence)].map((match) => match[1]!);
}

describe("the README's example job type", () => {
  it('shows examples/handlers/invoiceSend.ts verbatim', () => {
    const example = read('examples/handlers/invoiceSend.ts');

    expect(codeBlocks(read('README.md'), 'ts')).toContain(example);
  });

  it('imports only modules that exist in src/handlers/ terms, so the file works there as it is', () => {
    const specifiers = [...read('examples/handlers/invoiceSend.ts').matchAll(/from '(\.[^']*)'/g)].map(
      (match) => match[1]!,
    );

    const missing = specifiers.filter(
      (specifier) => !existsSync(join(root, 'src/handlers', `${specifier}.ts`)),
    );

    expect(specifiers.length).toBeGreaterThan(0);
    expect(missing).toEqual([]);
  });

  it('counts the lines a new job type adds to registeredHandlers.ts as that file says it, and the diff shows them', () => {
    const readme = read('README.md');
    const registry = read('src/handlers/registeredHandlers.ts');
    const [diff = ''] = codeBlocks(readme, 'diff');

    const added = diff.split('\n').filter((line) => line.startsWith('+'));

    expect(added).toHaveLength(2);
    expect(readme).toContain('two lines in `src/handlers/registeredHandlers.ts`');
    expect(registry).toContain('one file in this folder and two lines here');
  });
});
