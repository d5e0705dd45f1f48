/** What a service started by `startServiceProcess` says about itself: its endpoints, connection strings and ports. */
export type ServiceDetails = Readonly<Record<string, string | number>>;

/** The one message a service process sends its parent, over the IPC channel, once it has started or failed to. */
export type ServiceMessage =
  | { readonly kind: 'ready'; readonly details: ServiceDetails }
  | { readonly kind: 'failed'; readonly message: string; readonly code?: string; readonly port?: number };

/** What the parent sends to stop a service gracefully. */
export const STOP = 'stop';
