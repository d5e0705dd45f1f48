/**
 * Message ids seen within the duplicate-detection window. Map order is arrival order, so expired ids are
 * pruned from the front on each check and no timer is needed.
 */
export class DuplicateDetector {
  private readonly seen = new Map<string, number>();

  constructor(private readonly windowMs: number) {}

  /** True when `messageId` was seen inside the window; otherwise remembers it from `now`. */
  isDuplicate(messageId: unknown, now: number): boolean {
    for (const [id, seenAt] of this.seen) {
      if (now - seenAt < this.windowMs) break;
      this.seen.delete(id);
    }
    const key = messageIdKey(messageId);
    if (this.seen.has(key)) return true;
    this.seen.set(key, now);
    return false;
  }
}

function messageIdKey(messageId: unknown): string {
  if (Buffer.isBuffer(messageId)) return `binary:${messageId.toString('hex')}`;
  return `${typeof messageId}:${String(messageId)}`;
}
