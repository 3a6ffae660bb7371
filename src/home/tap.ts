/**
 * The event hook that keeps Homes fresh: every state change of a change, a request or an alert
 * ends in a message posted or updated, so a messenger that reports each successful send tells the
 * Home service that something it shows may have changed (it coalesces the burst).
 */
import type { Messenger } from '../domain/ports/messenger.js';

/**
 * @example const messenger = tapMessenger(outbox.messenger, () => home.changed());
 */
export function tapMessenger(messenger: Messenger, changed: () => void): Messenger {
  return {
    async post(channel, message, threadTs, delivery) {
      const ref = await messenger.post(channel, message, threadTs, delivery);
      changed();
      return ref;
    },
    async update(ref, message, delivery) {
      await messenger.update(ref, message, delivery);
      changed();
    },
    ephemeral: (channel, user, message) => messenger.ephemeral(channel, user, message),
  };
}
