import type { Message, Sender } from 'rhea';
import { log } from './log';

/**
 * Request/response nodes ($cbs, $management) answer on the client's receiver link named in `reply_to`.
 * One router per connection maps those names to our sending end of the link.
 */
export class ReplyRouter {
  private readonly senders = new Map<string, Sender>();

  register(sender: Sender): void {
    this.senders.set(sender.name, sender);
    const address = sender.target?.address;
    if (address && address !== sender.name) this.senders.set(address, sender);
  }

  unregister(sender: Sender): void {
    for (const [key, candidate] of this.senders) {
      if (candidate === sender) this.senders.delete(key);
    }
  }

  reply(replyTo: unknown, response: Message | Record<string, unknown>): void {
    const sender = typeof replyTo === 'string' ? this.senders.get(replyTo) : undefined;
    if (!sender || !sender.is_open()) {
      log(`dropping a reply: no open link named ${String(replyTo)}`);
      return;
    }
    // rhea holds the reply until the client grants credit.
    sender.send(response as Message);
  }
}
