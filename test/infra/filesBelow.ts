// One walk of a directory tree, the packaging tool's: tests list files the same way the package is built.
export { filesBelow } from '../../tools/package/filesBelow';
