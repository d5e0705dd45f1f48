import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below `root`/`dir`, as a path from `root` with `/` separators (`dir` '' lists all of `root`). */
export function filesBelow(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    return entry.isDirectory() ? filesBelow(root, path) : [path];
  });
}
