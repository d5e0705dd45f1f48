import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';

/** The dashboard's files, by the name they are served under, with their media types: nothing else is served. */
export const dashboardFiles: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
};

/**
 * No inline script or style, nothing from elsewhere, no framing: whatever a job's data holds, the page runs only
 * its own script. Sent with every file.
 */
const dashboardContentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const securityHeaders = {
  'Content-Security-Policy': dashboardContentSecurityPolicy,
  'X-Content-Type-Options': 'nosniff',
  // The page's own URL may carry a function key (`?code=`): never sent on to anyone.
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-cache',
};

// The package root holds `dashboard/` beside `dist/`: two levels up from the sources (src/functions, as tests and
// the local host run them), three from the compiled code (dist/src/functions, as the Functions host runs it).
const candidateDirectories = [
  join(__dirname, '..', '..', 'dashboard'),
  join(__dirname, '..', '..', '..', 'dashboard'),
];

let directory: string | undefined;
const cache = new Map<string, Buffer>();

function filesDirectory(): string {
  directory ??= candidateDirectories.find((candidate) => existsSync(join(candidate, 'index.html')));
  if (!directory)
    throw new Error(`The dashboard's files are missing (looked in ${candidateDirectories.join(', ')}).`);
  return directory;
}

/** One of {@link dashboardFiles} as an HTTP answer, read once and kept; `undefined` for any other name. */
export async function dashboardFile(name: string): Promise<HttpResponseInit | undefined> {
  const contentType = Object.hasOwn(dashboardFiles, name) ? dashboardFiles[name] : undefined;
  if (!contentType) return undefined;
  let content = cache.get(name);
  if (!content) {
    content = await readFile(join(filesDirectory(), name));
    cache.set(name, content);
  }
  return { status: 200, headers: { 'Content-Type': contentType, ...securityHeaders }, body: content };
}
