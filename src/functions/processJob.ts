import type { InvocationContext } from '@azure/functions';
import { settle } from '../jobs/dispatch/settlement';
import type { SdkReceivedMessage } from '../queue/serviceBusJobMessage';
import { fromHostTrigger, fromSdkMessage } from '../queue/serviceBusJobMessage';
import type { ServiceBusMessageActions } from '../queue/serviceBusSettlers';
import { explicitModeSettler, hostModeSettler } from '../queue/serviceBusSettlers';
import type { JobsRuntime } from '../runtime';

export interface SdkBindingInput<TMessage extends SdkReceivedMessage = SdkReceivedMessage> {
  messages: TMessage | TMessage[];
  actions: ServiceBusMessageActions<TMessage>;
}

/** `host` settlement: the GA trigger; the host completes on return and abandons on a thrown error. */
export function createProcessJobHostSettled({ dispatcher }: Pick<JobsRuntime, 'dispatcher'>) {
  return async (body: unknown, context: InvocationContext): Promise<void> => {
    const settlement = await dispatcher.dispatch(fromHostTrigger(body, context.triggerMetadata ?? {}));
    await settle(settlement, hostModeSettler);
  };
}

/** `explicit` settlement: the SDK-type binding; every message is completed, abandoned or dead-lettered by us. */
export function createProcessJobExplicitlySettled({ dispatcher }: Pick<JobsRuntime, 'dispatcher'>) {
  return async ({ messages, actions }: SdkBindingInput): Promise<void> => {
    for (const message of Array.isArray(messages) ? messages : [messages]) {
      const settlement = await dispatcher.dispatch(fromSdkMessage(message));
      await settle(settlement, explicitModeSettler(actions, message));
    }
  };
}
