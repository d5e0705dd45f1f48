// The readings live with the packaging tool (`npm run package:size`), which assembles the package by them.
export type { IgnoreRules } from '../../tools/package/funcignore';
export { alwaysLeftOut, excludesNodeModules, parseIgnoreRules } from '../../tools/package/funcignore';
