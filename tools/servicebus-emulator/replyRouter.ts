import type { Message, Sender } from 'rhea';
import { log } from './log';

/**
 * Request/response nodes ($cbs, $management) answer on the client's receiver link named in `reply_to`.
 * One router per connection maps those names to our sending end of the link. A request without `reply_to`
 * (uamqp's put-token) is answered on the connection's receiving link attached to the same node.
 */
export class ReplyRouter {
  private readonly senders = new Map<string, Sender>();
  private readonly byNode = new Map<string, Sender>();

  /** `node` names the request/response node the link listens to: `$cbs` or `<entity>/$management`. */
  register(sender: Sender, node: string): void {
    this.senders.set(sender.name, sender);
    const address = sender.target?.address;
    if (address && address !== sender.name) this.senders.set(address, sender);
    this.byNode.set(node.toLowerCase(), sender);
  }

  unregister(sender: Sender): void {
    for (const map of [this.senders, this.byNode]) {
      for (const [key, candidate] of map) {
        if (candidate === sender) map.delete(key);
      }
    }
  }

  reply(replyTo: unknown, node: string, response: Message | Record<string, unknown>): void {
    const sender =
      typeof replyTo === 'string' && replyTo !== ''
        ? this.senders.get(replyTo)
        : this.byNode.get(node.toLowerCase());
    if (!sender || !sender.is_open()) {
      log(`dropping a reply: no open link named ${String(replyTo)} for ${node}`);
      return;
    }
    // rhea holds the reply until the client grants credit.
    sender.send(response as Message);
  }
}
