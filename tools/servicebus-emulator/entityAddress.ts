/** What a link address names, once the scheme and host are stripped. */
export type EntityAddress =
  { kind: 'cbs' } | { kind: 'entity'; path: string; management: boolean } | { kind: 'empty' };

const MANAGEMENT_SUFFIX = '/$management';

export function parseEntityAddress(address: string | undefined): EntityAddress {
  if (!address) return { kind: 'empty' };
  let path = address.replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/^\/+/, '');
  if (path === '$cbs') return { kind: 'cbs' };
  const management = path.toLowerCase().endsWith(MANAGEMENT_SUFFIX);
  if (management) path = path.slice(0, -MANAGEMENT_SUFFIX.length);
  return { kind: 'entity', path, management };
}
