import type { HttpMethod } from '@azure/functions';

/** The host's route prefix (`extensions.http.routePrefix` in host.json): every route is under `/api/`. */
export const routePrefix = 'api';

/** A route as a template (`jobs/{jobId}`, `deadletters/{sequenceNumber:long}`) with the methods it takes. */
export interface RoutedFunction {
  readonly route: string;
  readonly methods: readonly HttpMethod[];
}

/** One route that answers a path, with its parameters as they appear in the path (still percent-encoded). */
export interface RouteMatch<T extends RoutedFunction> {
  readonly definition: T;
  readonly rawParams: Record<string, string>;
}

/** The order `Allow` lists methods in, whatever order the functions declare them. */
const methodOrder: readonly HttpMethod[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
];

interface CompiledRoute<T extends RoutedFunction> {
  readonly definition: T;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
}

/**
 * The routes of the function table, matched as the host matches them, for the local host (which serves them) and
 * for the functions' own `OPTIONS` answers (which list a path's methods). A literal segment wins over a parameter
 * (`deadletters/replay` over `deadletters/{sequenceNumber}`), as in ASP.NET routing: fewer parameters first.
 */
export class RouteTable<T extends RoutedFunction> {
  private readonly routes: readonly CompiledRoute<T>[];

  constructor(definitions: readonly T[]) {
    this.routes = definitions.map(compile).sort((a, b) => a.paramNames.length - b.paramNames.length);
  }

  /** Every route whose template matches `path` (`/api/jobs/…`, as sent), the most specific first. */
  match(path: string): RouteMatch<T>[] {
    return this.routes.flatMap(({ definition, pattern, paramNames }) => {
      const found = pattern.exec(path);
      if (!found) return [];
      const rawParams = Object.fromEntries(paramNames.map((name, index) => [name, found[index + 1] ?? '']));
      return [{ definition, rawParams }];
    });
  }

  /**
   * The methods `path` answers (its `Allow`): those of the most specific routes that match it, in a fixed order;
   * empty when no route matches.
   */
  allowedMethods(path: string): HttpMethod[] {
    const matches = this.match(path);
    const fewest = Math.min(...matches.map(({ rawParams }) => Object.keys(rawParams).length));
    const methods = new Set(
      matches
        .filter(({ rawParams }) => Object.keys(rawParams).length === fewest)
        .flatMap(({ definition }) => definition.methods),
    );
    return methodOrder.filter((method) => methods.has(method));
  }

  /** Every route as a caller reads it: `GET /api/jobs/{jobId}` (not the host's `{sequenceNumber:long}`). */
  describe(): string[] {
    return this.routes.flatMap(({ definition }) => {
      const route = definition.route.replace(/\{(\w+):\w+\}/g, '{$1}');
      return definition.methods.map((method) => `${method} /${routePrefix}/${route}`);
    });
  }
}

function compile<T extends RoutedFunction>(definition: T): CompiledRoute<T> {
  const paramNames: string[] = [];
  const source = definition.route
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)(?::(\w+))?\??\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(param[1] as string);
      return constraintPattern(definition.route, param[2]);
    })
    .join('/');
  return { definition, pattern: new RegExp(`^/${routePrefix}/${source}/?$`, 'i'), paramNames };
}

// The Functions host's route constraints this app may use; an unknown one fails at start-up rather than mis-route.
const constraintPatterns: Record<string, string> = {
  int: '(-?\\d+)',
  long: '(-?\\d+)',
  alpha: '([a-zA-Z]+)',
};

function constraintPattern(route: string, constraint: string | undefined): string {
  if (constraint === undefined) return '([^/]+)';
  const pattern = constraintPatterns[constraint.toLowerCase()];
  if (!pattern) throw new Error(`Route '${route}': the constraint '${constraint}' is not supported.`);
  return pattern;
}
