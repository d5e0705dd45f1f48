import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingNames } from '../../../src/config';

describe('docs/settings.md', () => {
  it('describes every setting the app reads', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'settings.md'), 'utf8');

    const missing = settingNames.filter((name) => !doc.includes(`\`${name}\``));

    expect(missing).toEqual([]);
  });
});
