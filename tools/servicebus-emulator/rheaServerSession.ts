import type { Connection } from 'rhea';

/** The slice of rhea's untyped session and link internals that the two fixes below touch. */
interface LinkInternals {
  name: string;
  is_sender(): boolean;
  state: { need_open(): boolean };
  local: { attach: unknown; handle: number };
  remote: { handle: number | undefined; attach?: unknown };
  on_attach(frame: AttachFrame): void;
}
interface AttachFrame {
  performative: { name: string; handle: number; role: boolean };
}
interface SessionInternals {
  links: Record<string, LinkInternals>;
  local: { handles: Record<number, LinkInternals | undefined> };
  remote: { handles: Record<number, LinkInternals | undefined> };
  outgoing: { process(): void };
  output(frame: unknown): void;
  create_sender(name: string): LinkInternals;
  create_receiver(name: string): LinkInternals;
  create_link(name: string, constructor: LinkConstructor, options: unknown): LinkInternals;
  on_attach(frame: AttachFrame): void;
  remove_link(link: LinkInternals): void;
}
type LinkConstructor = new (
  session: SessionInternals,
  name: string,
  handle: number,
  options: unknown,
) => LinkInternals;
interface ConnectionInternals {
  create_session(bufferSize: unknown): SessionInternals;
}

/**
 * Makes every session of a server connection follow two rules of AMQP 1.0 that rhea 3 breaks, on this
 * connection only (clients in the same process, such as the SDK in tests, keep rhea's behaviour):
 *
 * - A link name is unique per direction (§2.6.1): a sender and a receiver may share one, as Proton names a
 *   request/response pair. rhea keys a session's links by name alone, and the second attach fails with
 *   "Attach already received".
 * - No transfer on a handle before its attach (§2.7.5). rhea writes a session's pending transfers before its
 *   links' attach frames when both come out of one pass; a client that pipelines attach and flow (Proton's
 *   default) on a non-empty queue then gets a transfer on an unknown handle and closes the connection.
 */
export function conformServerSessions(connection: Connection): void {
  const internals = connection as unknown as ConnectionInternals;
  const createSession = internals.create_session.bind(internals);
  internals.create_session = (bufferSize) => {
    const session = createSession(bufferSize);
    const attaches = writeAttachesBeforeTransfers(session);
    keyLinksByNameAndRole(session, attaches);
    return session;
  };
}

function linkKey(name: string, sender: boolean): string {
  return `${sender ? 'sender' : 'receiver'}:${name}`;
}

function keyLinksByNameAndRole(session: SessionInternals, attaches: PendingAttaches): void {
  session.create_link = function (name, constructor, options) {
    let handle = 0;
    while (this.local.handles[handle]) handle++;
    const link = new constructor(this, name, handle, options);
    this.links[linkKey(name, link.is_sender())] = link;
    this.local.handles[handle] = link;
    return link;
  };
  session.on_attach = function (frame) {
    const { name, handle, role } = frame.performative;
    // role true: the peer is the receiver, so this end is the sender.
    const link =
      this.links[linkKey(name, role)] ?? (role ? this.create_sender(name) : this.create_receiver(name));
    this.remote.handles[handle] = link;
    link.on_attach(frame);
    link.remote.attach = frame.performative;
    // Answering the attach is now due (rhea opened the link); the next pass writes it first.
    attaches.due();
  };
  session.remove_link = function (link) {
    if (link.remote.handle !== undefined) delete this.remote.handles[link.remote.handle];
    delete this.local.handles[link.local.handle];
    delete this.links[linkKey(link.name, link.is_sender())];
  };
}

interface PendingAttaches {
  due(): void;
}

function writeAttachesBeforeTransfers(session: SessionInternals): PendingAttaches {
  const outgoing = session.outgoing;
  const processOutgoing = outgoing.process.bind(outgoing);
  let pending = false;
  // rhea's session pass writes begin, then outgoing transfers, then each link's attach. Writing the pending
  // attaches first (need_open() consumes the request, so the link's own pass does not repeat it) keeps begin
  // first and every attach ahead of the transfers on its handle; detach frames keep their place, after.
  // The flag keeps the scan off the hot path: a pass looks at the links only after an attach came in.
  outgoing.process = () => {
    if (pending) {
      pending = false;
      for (const key in session.links) {
        const link = session.links[key];
        if (link?.state.need_open()) session.output(link.local.attach);
      }
    }
    processOutgoing();
  };
  return { due: () => (pending = true) };
}
