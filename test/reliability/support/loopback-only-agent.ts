import { Agent, buildConnector } from 'undici';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * A dispatcher for tests that register endpoints with made-up URLs: it connects to loopback only
 * and refuses everything else as a closed port would, so no test traffic leaves the machine.
 */
export function createLoopbackOnlyAgent(): Agent {
  const connect = buildConnector({});
  return new Agent({
    connect: (options, callback) => {
      const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
      if (LOOPBACK.has(host)) return connect(options, callback);
      const err = Object.assign(new Error(`connect ECONNREFUSED ${host} (tests reach loopback only)`), { code: 'ECONNREFUSED' });
      process.nextTick(() => callback(err, null));
    },
  });
}
