import { loadBenchConfig } from '../bench/config';

describe('BENCH_WORKER_SETTINGS', () => {
  it('is empty unless set: a plain run measures the defaults', () => {
    expect(loadBenchConfig({}).workerSettings).toEqual({});
  });

  it('passes WORKER_* settings to Hookrelay processes', () => {
    const { workerSettings } = loadBenchConfig({ BENCH_WORKER_SETTINGS: 'WORKER_ENDPOINT_SHARE=1, WORKER_ADDRESS_SHARE=0.5' });
    expect(workerSettings).toEqual({ WORKER_ENDPOINT_SHARE: '1', WORKER_ADDRESS_SHARE: '0.5' });
  });

  it('refuses any other name, so an experiment cannot change what else is measured', () => {
    expect(() => loadBenchConfig({ BENCH_WORKER_SETTINGS: 'LOG_LEVEL=silent' })).toThrow(/LOG_LEVEL=silent.*WORKER_<NAME>=<value>/);
    expect(() => loadBenchConfig({ BENCH_WORKER_SETTINGS: 'WORKER_ENDPOINT_SHARE' })).toThrow(/BENCH_WORKER_SETTINGS/);
  });
});
