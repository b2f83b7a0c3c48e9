export * from './encryption-keys';
export * from './secret-box';
export * from './secret-unreadable-error';
