import { SourceMap } from 'node:module';
import { build } from 'esbuild';
import type { SourceMapV3 } from '../../tools/package/trimSourceMap';
import { keepSources } from '../../tools/package/trimSourceMap';

/** A bundle of an app module and a dependency, with its source map, built in memory. */
async function bundleWithMap(): Promise<{ code: string; map: SourceMapV3 }> {
  const result = await build({
    stdin: {
      contents: "const lib = require('./node_modules/lib/index.js');\nexports.run = () => lib.twice(21);\n",
      resolveDir: __dirname,
      sourcefile: 'src/app.js',
    },
    plugins: [
      {
        name: 'virtual-lib',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /node_modules\/lib/ }, () => ({
            path: 'node_modules/lib/index.js',
            namespace: 'lib',
          }));
          pluginBuild.onLoad({ filter: /.*/, namespace: 'lib' }, () => ({
            contents: 'exports.twice = function twice(n) {\n  return n * 2;\n};\n',
            loader: 'js',
          }));
        },
      },
    ],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    sourcemap: 'external',
    sourcesContent: false,
    write: false,
    outfile: 'out.js',
  });
  const text = (suffix: string) => result.outputFiles.find((file) => file.path.endsWith(suffix))!.text;
  return { code: text('out.js'), map: JSON.parse(text('out.js.map')) as SourceMapV3 };
}

/** The source and line each generated line's first mapped column points to, or undefined. */
function originsOf(code: string, map: SourceMapV3): Array<string | undefined> {
  const sourceMap = new SourceMap(map as never);
  return code.split('\n').map((line, index) => {
    const column = line.search(/\S/);
    if (column < 0) return undefined;
    const entry = sourceMap.findEntry(index, column) as { originalSource?: string; originalLine?: number };
    return entry.originalSource
      ? `${entry.originalSource.replace(/.*(src|node_modules)/, '$1')}:${entry.originalLine! + 1}`
      : undefined;
  });
}

describe('keepSources', () => {
  it('keeps the mappings into the kept sources, position for position, and drops the others', async () => {
    const { code, map } = await bundleWithMap();

    const trimmed = keepSources(map, (source) => !source.includes('node_modules'));

    const before = originsOf(code, map);
    const after = originsOf(code, trimmed);
    expect(before.filter((origin) => origin?.startsWith('node_modules/')).length).toBeGreaterThan(0);
    expect(after.filter((origin) => origin?.startsWith('node_modules/'))).toEqual([]);
    expect(after.filter(Boolean)).toEqual(before.filter((origin) => origin?.startsWith('src/')));
    expect(trimmed.sources.every((source) => !source.includes('node_modules'))).toBe(true);
  });

  it('leaves a map with nothing to drop as it was', async () => {
    const { map } = await bundleWithMap();

    expect(keepSources(map, () => true).mappings).toBe(map.mappings);
  });
});
