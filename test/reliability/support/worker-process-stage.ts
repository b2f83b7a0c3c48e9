// What the suites that run worker processes of their own stand on: a private redis-server, a
// receiver and the API in the test's process, started before the suite; the workers the suite
// starts are killed after it, then the rest is closed.
import { startRedisServer, TestReceiver, type RedisServerOptions, type Reply, type RedisServerHandle } from '@hookrelay/testing';
import { startReliabilityApi, type ReliabilityApi } from './reliability-api';
import type { WorkerProcess } from './worker-process';

export interface WorkerProcessStage {
  redis: RedisServerHandle;
  api: ReliabilityApi;
  receiver: TestReceiver;
  /** Push the worker processes the suite starts here: they are killed after the suite. */
  workers: WorkerProcess[];
}

/** Registers beforeAll and afterAll; the returned object is filled in by the beforeAll. */
export function useWorkerProcessStage(options: { redis?: RedisServerOptions; reply: Reply }): WorkerProcessStage {
  const stage = { workers: [] as WorkerProcess[] } as WorkerProcessStage;
  beforeAll(async () => {
    stage.redis = await startRedisServer(options.redis);
    stage.receiver = await TestReceiver.start(options.reply);
    stage.api = await startReliabilityApi({ redisUrl: stage.redis.url });
  });
  afterAll(async () => {
    for (const w of stage.workers) await w.kill();
    await stage.api?.close();
    await stage.receiver?.close();
    await stage.redis?.stop();
  });
  return stage;
}
