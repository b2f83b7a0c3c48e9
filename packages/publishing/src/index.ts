export * from './publisher';
export * from './group-commit';
export { requestDigest } from './request-digest';
export { TypeRouter, routerOf } from './type-router';
