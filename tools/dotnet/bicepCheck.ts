import { join, relative, sep } from 'node:path';
import { repositoryRoot, restoreBicep, runProgram } from './dotnetTools';

/** One finding of the Bicep compiler or its linter, as it prints them: `file(line,column) : Level CODE: message`. */
export interface BicepDiagnostic {
  /** Relative to the repository root, with `/`. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: 'Error' | 'Warning' | 'Info';
  readonly code: string;
  readonly message: string;
}

/**
 * Warnings allowed to remain, each with its reason; infra/README.md lists the same ones. Keyed by file and code, so
 * a new warning of the same code elsewhere still fails. Empty: `bicep build` and `bicep lint` report nothing.
 */
export const allowedBicepWarnings: readonly { file: string; code: string; reason: string }[] = [];

export interface InfraCheck {
  /** `bicep build infra/main.bicep --stdout`: the ARM template azd and `az deployment` deploy. */
  readonly template: ArmTemplate;
  /** Every diagnostic of the build and of `bicep lint` on each file under infra/, each once. */
  readonly diagnostics: readonly BicepDiagnostic[];
  /** Errors, and warnings not in {@link allowedBicepWarnings}: the check passes when this is empty. */
  readonly failures: readonly BicepDiagnostic[];
  /** Output lines that are not diagnostics (none expected): failures too, as nothing should go unread. */
  readonly unreadOutput: readonly string[];
}

/** The part of a compiled template the checks read. */
export interface ArmTemplate {
  readonly languageVersion?: string;
  readonly parameters?: Record<string, ArmParameter>;
  readonly variables?: Record<string, unknown>;
  /** An array, or (languageVersion 2.0) an object keyed by symbolic name. */
  readonly resources: ArmResource[] | Record<string, ArmResource>;
  readonly outputs?: Record<string, { type: string; value: unknown }>;
}

export interface ArmParameter {
  readonly type: string;
  readonly defaultValue?: unknown;
  readonly allowedValues?: readonly unknown[];
  readonly minValue?: number;
  readonly maxValue?: number;
  readonly nullable?: boolean;
}

export interface ArmResource {
  readonly type: string;
  readonly name: string;
  readonly condition?: string | boolean;
  readonly existing?: boolean;
  readonly scope?: string;
  readonly properties?: Record<string, unknown> & {
    template?: ArmTemplate;
    parameters?: Record<string, { value?: unknown }>;
  };
  readonly [key: string]: unknown;
}

const diagnosticLine = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([^:\s]+): (.*)$/;

/** Restores the pinned Bicep CLI, builds infra/main.bicep and lints every .bicep file under infra/ (one process). */
export async function checkInfra(): Promise<InfraCheck> {
  const bicep = await restoreBicep();
  // Both exit with an error (and runProgram rejects with their output) when the compiler finds an error.
  const build = await runProgram(bicep, ['build', join('infra', 'main.bicep'), '--stdout']);
  const lint = await runProgram(bicep, ['lint', '--pattern', 'infra/**/*.bicep']);
  const outputs = [build.stderr, lint.stdout, lint.stderr];
  const found = new Map<string, BicepDiagnostic>();
  const unreadOutput: string[] = [];
  for (const line of outputs.join('\n').split('\n')) {
    if (line.trim() === '') continue;
    const diagnostic = parseDiagnostic(line);
    if (!diagnostic) unreadOutput.push(line);
    else
      found.set(`${diagnostic.file}:${diagnostic.line}:${diagnostic.column}:${diagnostic.code}`, diagnostic);
  }
  const diagnostics = [...found.values()];
  const failures = diagnostics.filter(
    (diagnostic) =>
      diagnostic.level === 'Error' ||
      (diagnostic.level === 'Warning' &&
        !allowedBicepWarnings.some(
          (allowed) => allowed.file === diagnostic.file && allowed.code === diagnostic.code,
        )),
  );
  return { template: JSON.parse(build.stdout) as ArmTemplate, diagnostics, failures, unreadOutput };
}

export function parseDiagnostic(line: string): BicepDiagnostic | undefined {
  const match = diagnosticLine.exec(line.trim());
  if (!match) return undefined;
  const [, path, row, column, level, code, message] = match;
  return {
    file: relative(repositoryRoot, path!).split(sep).join('/'),
    line: Number(row),
    column: Number(column),
    level: level as BicepDiagnostic['level'],
    code: code!,
    message: message!,
  };
}

export function formatDiagnostic({ file, line, column, level, code, message }: BicepDiagnostic): string {
  return `${file}(${line},${column}) ${level} ${code}: ${message}`;
}

/** Every resource of a compiled template, those of nested deployments (modules) included, with the module path. */
export function armResources(
  template: ArmTemplate,
  module = 'main',
): { module: string; resource: ArmResource }[] {
  const resources = Array.isArray(template.resources)
    ? template.resources
    : Object.values(template.resources);
  return resources.flatMap((resource) => {
    const own = { module, resource };
    const nested = resource.properties?.template;
    if (resource.type !== 'Microsoft.Resources/deployments' || !nested) return [own];
    return [own, ...armResources(nested, resourceName(resource))];
  });
}

/** A module deployment's name (`'api'`), or a resource's name expression as written. */
export function resourceName(resource: ArmResource): string {
  return resource.name.replace(/^'|'$/g, '');
}
