import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipFiles } from '../../tools/package/zipFiles';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdap-jobs-zip-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const hasUnzip = spawnSync('unzip', ['-v']).status === 0;

describe('zipFiles', () => {
  it('writes every file once, deflated or stored, with a central directory that counts them', () => {
    mkdirSync(join(dir, 'in', 'a', 'b'), { recursive: true });
    const hostJson = JSON.stringify({ version: '2.0' });
    writeFileSync(join(dir, 'in', 'host.json'), hostJson);
    writeFileSync(join(dir, 'in', 'a', 'b', 'repeated.txt'), 'x'.repeat(100_000));
    writeFileSync(join(dir, 'in', 'a', 'empty.js'), '');
    const files = ['host.json', 'a/b/repeated.txt', 'a/empty.js'];

    const summary = zipFiles(join(dir, 'out.zip'), join(dir, 'in'), files);

    const zip = readFileSync(join(dir, 'out.zip'));
    const end = zip.subarray(zip.length - 22);
    expect(end.readUInt32LE(0)).toBe(0x06054b50);
    expect(end.readUInt16LE(10)).toBe(3);
    expect(summary).toEqual({ bytes: zip.length, entries: 3, uncompressedBytes: 100_000 + hostJson.length });
    expect(zip.length).toBeLessThan(2_000);
  });

  (hasUnzip ? it : it.skip)('writes an archive unzip reads back byte for byte', () => {
    mkdirSync(join(dir, 'in', 'dist'), { recursive: true });
    const contents = { 'package.json': '{"name":"x"}', 'dist/index.js': 'module.exports = 42;\n'.repeat(50) };
    for (const [path, text] of Object.entries(contents)) writeFileSync(join(dir, 'in', path), text);

    zipFiles(join(dir, 'out.zip'), join(dir, 'in'), Object.keys(contents));

    execFileSync('unzip', ['-tq', join(dir, 'out.zip')]);
    for (const [path, text] of Object.entries(contents)) {
      expect(execFileSync('unzip', ['-p', join(dir, 'out.zip'), path], { encoding: 'utf8' })).toBe(text);
    }
  });
});
