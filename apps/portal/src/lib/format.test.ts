import { byteSize } from './format';

describe('byteSize', () => {
  it.each<[number, string]>([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 KB'],
    [1536, '1.5 KB'],
    [184_220, '184 KB'],
    [1_073_741_824, '1.1 GB'],
    [2 ** 40, '1.1 TB'],
    [5e15, '5000 TB'],
  ])('writes %d bytes as %s', (bytes, text) => {
    expect(byteSize(bytes)).toBe(text);
  });
});
