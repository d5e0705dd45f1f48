import { timingSafeEqual } from 'node:crypto';

/** The key name and key of the emulator's connection string: the only credentials SASL PLAIN accepts. */
export const EMULATOR_KEY = {
  keyName: 'RootManageSharedAccessKey',
  key: 'SAS_KEY_VALUE',
} as const;

/** What rhea's SASL server expects of a mechanism: `start` decides the outcome from the initial response. */
interface ServerMechanism {
  outcome: boolean | undefined;
  username: string | undefined;
  start(response: Buffer | undefined, hostname?: string): void;
}

/** rhea's server-side mechanism table: names (as offered in sasl-mechanisms) to factories. */
type ServerMechanisms = Record<string, () => ServerMechanism>;

/**
 * The mechanisms Service Bus offers. ANONYMOUS and MSSBCBS both let the client in without credentials:
 * MSSBCBS (asked for by .NET and uamqp) means "the claims come later, over $cbs". PLAIN (Qpid JMS, Proton
 * samples) carries the shared access key name and key, and only the connection string's pair is accepted.
 */
export function serviceBusSaslMechanisms(): ServerMechanisms {
  return {
    ANONYMOUS: () => acceptAnyone(),
    MSSBCBS: () => acceptAnyone(),
    PLAIN: () => plain(),
  };
}

function acceptAnyone(): ServerMechanism {
  return {
    outcome: undefined,
    username: undefined,
    start(response) {
      this.outcome = true;
      this.username = response && response.length > 0 ? response.toString('utf8') : 'anonymous';
    },
  };
}

function plain(): ServerMechanism {
  return {
    outcome: undefined,
    username: undefined,
    start(response) {
      // RFC 4616: [authzid] NUL authcid NUL passwd
      const fields = (response ?? Buffer.alloc(0)).toString('utf8').split('\0');
      const [, username, password] = fields;
      this.outcome =
        fields.length === 3 &&
        sameText(username ?? '', EMULATOR_KEY.keyName) &&
        sameText(password ?? '', EMULATOR_KEY.key);
      if (this.outcome) this.username = username;
    },
  };
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
