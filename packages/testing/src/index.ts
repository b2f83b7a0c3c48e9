export * from './redis-server';
export * from './test-receiver';
export * from './unique';
export * from './builders';
export * from './python/zenduty-receiver';
export * from './log-capture';
export * from './api-call';
export * from './redis-contents';
