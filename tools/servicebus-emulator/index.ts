export { emulatorConnectionString, startServiceBusEmulator } from './serviceBusEmulator';
export type { ServiceBusEmulatorOptions, StartedEmulator } from './serviceBusEmulator';
export type { EmulatorConfig, QueueProperties } from './emulatorConfig';
