/**
 * Whether the app setting `AzureWebJobs.<name>.Disabled` turns a function off, as it does in the Functions host
 * ("How to disable functions in Azure Functions"): `true` or `1`, in any case.
 */
export function isFunctionDisabled(env: Readonly<Record<string, string | undefined>>, name: string): boolean {
  const value = env[`AzureWebJobs.${name}.Disabled`]?.trim().toLowerCase();
  return value === 'true' || value === '1';
}
