import { TurnBatch } from './turn-batch';

describe('TurnBatch', () => {
  it('runs the calls made in one turn as one batch and answers each caller with its own result', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch(async (inputs: readonly number[]) => {
      runs.push([...inputs]);
      return inputs.map((n) => n * 10);
    }, 100);
    const answers = await Promise.all([batch.add(1), batch.add(2), batch.add(3)]);
    expect(answers).toEqual([10, 20, 30]);
    expect(runs).toEqual([[1, 2, 3]]);
    // A later turn is a new batch.
    expect(await batch.add(4)).toBe(40);
    expect(runs).toEqual([[1, 2, 3], [4]]);
  });

  it('starts a batch as soon as it holds max calls', async () => {
    const runs: number[][] = [];
    const batch = new TurnBatch(async (inputs: readonly number[]) => {
      runs.push([...inputs]);
      return inputs;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batch.add(n)));
    expect(runs).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('gives every caller of a failed batch its error, and the next batch runs anew', async () => {
    let fail = true;
    const batch = new TurnBatch(async (inputs: readonly string[]) => {
      if (fail) throw new Error('redis went away');
      return inputs;
    }, 10);
    const results = await Promise.allSettled([batch.add('a'), batch.add('b')]);
    expect(results.map((r) => r.status === 'rejected' && (r.reason as Error).message)).toEqual(['redis went away', 'redis went away']);
    fail = false;
    expect(await batch.add('c')).toBe('c');
  });

  it('rejects callers left without a result and survives a run that throws before its promise', async () => {
    let mode: 'short' | 'sync' = 'short';
    const batch = new TurnBatch((inputs: readonly number[]): Promise<readonly number[]> => {
      if (mode === 'sync') throw new Error('bad arguments');
      return Promise.resolve(inputs.slice(1));
    }, 10);
    const short = await Promise.allSettled([batch.add(1), batch.add(2)]);
    expect(short.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    mode = 'sync';
    await expect(batch.add(3)).rejects.toThrow('bad arguments');
  });
});
