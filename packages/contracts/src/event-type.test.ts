import { matchesEventType } from './event-type';

describe('matchesEventType', () => {
  it.each([
    ['*', 'incident.triggered', true],
    ['incident.triggered', 'incident.triggered', true],
    ['incident.triggered', 'incident.resolved', false],
    ['incident.*', 'incident.resolved', true],
    ['message.create.*', 'message.create.contact.chat', true],
    ['message.*', 'message.delete', true],
    ['message.*', 'message', false],
    ['receipt.*.delivered', 'receipt.sms.delivered', true],
    ['receipt.*.delivered', 'receipt.sms.failed', false],
    ['receipt.*.delivered', 'receipt.sms.delivered.extra', false],
    ['receipt.sms', 'receipt.sms.delivered', false],
    ['incident', 'incident.triggered', false],
  ])('pattern %s against %s is %s', (pattern, type, expected) => {
    expect(matchesEventType(pattern, type)).toBe(expected);
  });
});
