// What other composition roots reuse from the worker app: apps/api's `--with-worker` builds the
// worker's resources exactly as apps/worker's main.ts does.
export * from './worker-resources';
export * from './worker-settings';
export * from './warm-http-client';
export * from './delivery-thread-host';
