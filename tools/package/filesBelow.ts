import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Every file below `root`/`dir`, relative to `root`, with `/`; directories for which `skip` says so are not read. */
export function filesBelow(
  root: string,
  dir: string,
  skip: (path: string) => boolean = () => false,
): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!skip(path)) walk(path);
      } else if (entry.isFile() || (entry.isSymbolicLink() && statSync(join(root, path)).isFile())) {
        found.push(path);
      }
    }
  };
  walk(dir);
  return found;
}
