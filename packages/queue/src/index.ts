export * from './delivery-queue';
export * from './delivery-job-transaction';
export * from './delivery-job-worker';
export * from './queued-deliveries';
export * from './redis-connection';
export * from './redis-check';
export * from './redis-url';
