export * from './delivery-queue';
export * from './redis-connection';
export * from './redis-check';
