import type { Receiver, Sender } from 'rhea';
import { log } from './log';

/** Attach, then detach with the error: the SDK surfaces the detach error for the link it was creating. */
export function refuse(link: Sender | Receiver, condition: string, description: string): void {
  log(`refusing link to ${link.source?.address ?? link.target?.address}: ${condition}`);
  // As AMQP 1.0 (2.6.3) and Service Bus refuse a link: an attach whose terminus on our side is null, then the
  // detach with the error. An echoed terminus reads as an open link to .NET, which then fails the first send on
  // the link's unset maximum message size instead of reporting the detach's error.
  const attach = (link as unknown as { local: { attach: { source?: unknown; target?: unknown } } }).local
    .attach;
  if (link.is_receiver()) attach.target = null;
  else attach.source = null;
  link.close({ condition, description });
}
