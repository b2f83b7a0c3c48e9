import { Writable } from 'node:stream';
import { createLogger, droppedLogLines, forwardingLogDestination, LogHandOver, wantsPrettyLogs } from './logger';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: createLogger({ destination }) };
}

describe('createLogger', () => {
  it('redacts source verification secrets and API-key auth values', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        verification: { type: 'facebook', appSecret: 'A1', verifyToken: 'V1' },
        source: { verification: { type: 'slack', signingSecret: 'S1' } },
        twitter: { consumerSecret: 'C1' },
        twilio: { authToken: 'T1' },
        aws: { sessionToken: 'ST1' },
        auth: { type: 'api-key', header: 'x-api-key', value: 'K1' },
        endpoint: { auth: { type: 'api-key', value: 'K2' } },
      },
      'm',
    );
    const text = lines.join('');
    for (const secret of ['A1', 'V1', 'S1', 'C1', 'T1', 'ST1', 'K1', 'K2']) expect(text).not.toContain(`"${secret}"`);
    expect(JSON.parse(text)).toMatchObject({ auth: { type: 'api-key', header: 'x-api-key', value: '[Redacted]' } });
  });

  it('writes JSON lines with the level as a word and redacts secrets wherever they sit', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        secret: 's1',
        endpoint: { secret: 's2', auth: { password: 'p1', token: 't1' } },
        req: { headers: { authorization: 'Bearer k1' } },
        apiKey: 'hr_sub_x',
      },
      'm',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', msg: 'm', secret: '[Redacted]', apiKey: '[Redacted]' });
    const text = lines.join('');
    for (const secret of ['s1', 's2', 'p1', 't1', 'Bearer k1', 'hr_sub_x']) expect(text).not.toContain(secret);
  });
});

describe('wantsPrettyLogs', () => {
  it('is on only in development on a terminal', () => {
    expect(wantsPrettyLogs({ NODE_ENV: 'development' }, true)).toBe(true);
    expect(wantsPrettyLogs({}, true)).toBe(true);
    expect(wantsPrettyLogs({ NODE_ENV: 'development' }, false)).toBe(false);
    expect(wantsPrettyLogs({ NODE_ENV: 'development' }, undefined)).toBe(false);
    expect(wantsPrettyLogs({ NODE_ENV: 'production' }, true)).toBe(false);
    expect(wantsPrettyLogs({ NODE_ENV: 'test' }, true)).toBe(false);
  });
});

describe('forwardingLogDestination', () => {
  it('hands over the lines of one event-loop turn together, and what waits at once on flush', async () => {
    const sent: string[] = [];
    const destination = forwardingLogDestination((lines) => sent.push(lines));
    const logger = createLogger({ destination });
    logger.info('a');
    logger.info('b');
    expect(sent).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(1);
    expect(
      sent[0]!
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { msg: string }).msg),
    ).toEqual(['a', 'b']);
    logger.info('c');
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    expect(sent).toHaveLength(2);
    expect((JSON.parse(sent[1]!) as { msg: string }).msg).toBe('c');
    // Nothing is sent twice once the turn ends.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(2);
  });
});

describe('forwardingLogDestination with a LogHandOver', () => {
  it('drops and counts the lines that would take what waits unwritten past the bound, and sends again once written', async () => {
    const handOver = new LogHandOver(undefined, 100);
    const sent: string[] = [];
    const destination = forwardingLogDestination((lines) => sent.push(lines), handOver);
    const line = `${'x'.repeat(39)}\n`; // 40 characters
    const droppedBefore = droppedLogLines();
    destination.write(line);
    destination.write(line);
    destination.write(line); // 120 > 100, counting what waits in this turn
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([line + line]);
    expect(droppedLogLines() - droppedBefore).toBe(1);

    // Handed over and not yet written: still counted, in a later turn too (80 + 20 fits, 40 more does not).
    const short = `${'y'.repeat(19)}\n`;
    destination.write(line);
    destination.write(short);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toHaveLength(2);
    expect(sent[1]).toBe(short);
    expect(droppedLogLines() - droppedBefore).toBe(2);

    // The receiver wrote them: the room is back.
    handOver.written(sent[0]!.length + sent[1]!.length);
    destination.write(line);
    destination.write(line);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent[2]).toBe(line + line);
    expect(droppedLogLines() - droppedBefore).toBe(2);
  });

  it('shares the count across threads through its buffer', () => {
    const sender = new LogHandOver(undefined, 100);
    const receiver = new LogHandOver(sender.buffer);
    sender.sent(90);
    expect(sender.hasRoomFor(10, 0)).toBe(true);
    expect(sender.hasRoomFor(11, 0)).toBe(false);
    receiver.written(90);
    expect(sender.hasRoomFor(100, 0)).toBe(true);
  });
});
