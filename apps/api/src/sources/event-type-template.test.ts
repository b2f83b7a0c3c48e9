import { eventTypeProblem, payloadProblem, resolveEventType } from './event-type-template';
import { evaluateMatches, matchPathProblem } from './match';
import { parseBody, slackChallenge } from './payload';

describe('source event types', () => {
  it.each([
    'source.jira.issue',
    'custom.order.paid',
    'github.{$.action}',
    'stripe.{$.type}',
    'source.{$.kind}.{$.action}',
    "slack.{$['event']['type']}",
  ])('accepts %s', (type) => {
    expect(eventTypeProblem(type)).toBeNull();
  });

  it.each([
    ['a fixed type outside source. and custom.', 'github.push', /under source\. or custom\./],
    ['a catalog namespace in a template', 'incident.{$.status}', /built-in namespace/],
    // Issue 20: a source published `Endpoint.disabled` when namespaces were compared with case.
    ['a built-in namespace in another case', 'Endpoint.{$.x}', /"Endpoint\." is a built-in namespace/],
    ['a built-in namespace in capitals', 'INCIDENT.{$.status}', /built-in namespace/],
    ["Hookrelay's own namespace", 'HookRelay.{$.kind}', /built-in namespace/],
    ['a template that starts with a placeholder', '{$.kind}.event', /literal segment/],
    ['an unbalanced brace', 'github.{$.action', /unbalanced/],
    ['a filter expression', 'github.{$..[?(@.x)]}', /filter and script/],
    ['characters outside a dotted type', 'github event.{$.action}', /dot-separated/],
  ])('refuses %s', (_name, type, message) => {
    expect(eventTypeProblem(type)).toMatch(message);
  });

  it('fills a template from the payload, keeping dots the value carries', () => {
    expect(resolveEventType('github.{$.action}', { action: 'opened' })).toEqual({ ok: true, type: 'github.opened' });
    expect(resolveEventType('stripe.{$.type}', { type: 'invoice.paid' })).toEqual({ ok: true, type: 'stripe.invoice.paid' });
    expect(resolveEventType('source.jira.issue', { anything: 1 })).toEqual({ ok: true, type: 'source.jira.issue' });
  });

  it('gives a reason when the template cannot be filled into a valid type', () => {
    expect(resolveEventType('github.{$.action}', { zen: 'ping' })).toEqual({
      ok: false,
      reason: 'eventType: no text or number at $.action',
    });
    expect(resolveEventType('github.{$.action}', { action: 'two words' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a dotted event type/),
    });
    expect(resolveEventType('github.{$.action}', { action: { nested: true } })).toMatchObject({ ok: false });
  });

  describe('{header:Name} and optional placeholders', () => {
    const headers = { 'x-github-event': 'pull_request', 'x-shopify-topic': 'Orders/Create', 'x-long': 'a'.repeat(101) };

    it('reads headers case-insensitively, lower-cased, with / as a dot', () => {
      expect(resolveEventType('shopify.{header:X-Shopify-Topic}', {}, undefined, headers)).toEqual({
        ok: true,
        type: 'shopify.orders.create',
      });
      expect(resolveEventType('github.{header:x-github-event}.{$.action}', { action: 'opened' }, undefined, headers)).toEqual({
        ok: true,
        type: 'github.pull_request.opened',
      });
    });

    it('leaves out an optional placeholder without a value, with its dot', () => {
      const template = 'github.{header:X-GitHub-Event}.{$.action?}';
      expect(resolveEventType(template, { ref: 'main' }, undefined, headers)).toEqual({ ok: true, type: 'github.pull_request' });
      expect(resolveEventType(template, { action: 'closed' }, undefined, headers)).toEqual({
        ok: true,
        type: 'github.pull_request.closed',
      });
      expect(resolveEventType('source.x.{header:X-Absent?}', {}, undefined, headers)).toEqual({ ok: true, type: 'source.x' });
    });

    it('gives a reason for a missing or overlong header, or a value that is not a dotted word', () => {
      expect(resolveEventType('github.{header:X-GitHub-Event}', {}, undefined, {})).toEqual({
        ok: false,
        reason: 'eventType: no x-github-event header',
      });
      expect(resolveEventType('h.{header:X-Long}', {}, undefined, headers)).toEqual({
        ok: false,
        reason: 'eventType: header x-long is longer than 100 characters',
      });
      expect(resolveEventType('h.{header:X-Space}', {}, undefined, { 'x-space': 'two words' })).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/not a dotted event type/),
      });
    });

    it.each([
      ['a header name that is not a token', 'github.{header:X GitHub}', /must name an HTTP header/],
      ['an empty header name', 'github.{header:}', /must name an HTTP header/],
      ['an optional placeholder not after a dot', 'github.x{$.action?}', /must follow a dot/],
      ['a built-in namespace in another case', 'Incident.{header:X-Kind}', /built-in namespace/],
      ['a built-in namespace in capitals', 'RECEIPT.{$.status}', /built-in namespace/],
      ['more than five placeholders', 'a.{header:A}.{header:B}.{header:C}.{$.d}.{$.e}.{$.f}', /at most 5/],
    ])('refuses %s', (_name, type, message) => {
      expect(eventTypeProblem(type)).toMatch(message);
    });

    it("accepts the presets' default templates", () => {
      for (const t of [
        'github.{header:X-GitHub-Event}.{$.action?}',
        'shopify.{header:X-Shopify-Topic}',
        'pagerduty.{$.event.event_type}',
        'facebook.{$.object}',
        'sendgrid.{$.event}',
      ])
        expect(eventTypeProblem(t)).toBeNull();
    });
  });

  it('validates custom.* payloads as the catalog does and lets source types carry any JSON', () => {
    expect(payloadProblem('custom.x', [1, 2])).toMatch(/JSON object/);
    expect(payloadProblem('custom.x', { a: 1 })).toBeNull();
    expect(payloadProblem('source.x', [1, 2])).toBeNull();
    expect(payloadProblem('github.opened', 'text')).toBeNull();
  });
});

describe('matches', () => {
  const slack = { event: { type: 'message', text: 'hello', tags: ['a', 'b'] }, n: 3 };

  it('holds when every path has its value, in dot or bracket notation', () => {
    expect(evaluateMatches({ "$['event']['type']": 'message', '$.event.text': 'hello' }, slack)).toEqual({ matched: true });
    expect(evaluateMatches({}, slack)).toEqual({ matched: true });
    expect(evaluateMatches({ '$.n': 3, '$.event.tags': ['a', 'b'] }, slack)).toEqual({ matched: true });
  });

  it('fails when any one path differs or is absent, saying which', () => {
    expect(evaluateMatches({ '$.event.type': 'message', '$.event.text': 'bye' }, slack)).toEqual({
      matched: false,
      reason: '$.event.text does not equal "bye"',
    });
    expect(evaluateMatches({ '$.event.user': 'U1' }, slack)).toEqual({ matched: false, reason: '$.event.user is absent' });
    expect(evaluateMatches({ '$.n': '3' }, slack)).toMatchObject({ matched: false });
  });

  it('holds for a wildcard path when any selected value equals', () => {
    expect(evaluateMatches({ '$.event.tags[*]': 'b' }, slack)).toEqual({ matched: true });
  });

  it('refuses paths that do not start with $ or carry script', () => {
    expect(matchPathProblem('event.type')).toMatch(/start with \$/);
    expect(matchPathProblem('$..book[?(@.price<10)]')).toMatch(/not supported/);
    expect(matchPathProblem('$.a.b')).toBeNull();
  });
});

describe('body formats', () => {
  it('parses a Symphony-style form message into fields, repeated fields into an array', () => {
    const body = Buffer.from(
      new URLSearchParams([
        ['message', '<messageML>test & more</messageML>'],
        ['tag', 'a'],
        ['tag', 'b'],
      ]).toString(),
    );
    expect(parseBody('form', body)).toEqual({ ok: true, payload: { message: '<messageML>test & more</messageML>', tag: ['a', 'b'] } });
  });

  it('keeps a form field named __proto__ as data', () => {
    const parsed = parseBody('form', Buffer.from('__proto__=x&a=1'));
    expect(parsed.ok && Object.getPrototypeOf(parsed.payload)).toBe(Object.prototype);
    expect(parsed.ok && Object.keys(parsed.payload as object)).toEqual(['__proto__', 'a']);
  });

  it('wraps text and refuses invalid JSON', () => {
    expect(parseBody('text', Buffer.from('deploy finished'))).toEqual({ ok: true, payload: { text: 'deploy finished' } });
    expect(parseBody('json', Buffer.from('{nope'))).toEqual({ ok: false, reason: 'body is not valid JSON' });
  });

  it("recognises Slack's url_verification body only", () => {
    expect(slackChallenge({ token: 't', challenge: 'abc', type: 'url_verification' })).toBe('abc');
    expect(slackChallenge({ challenge: 'abc', type: 'event_callback' })).toBeNull();
  });
});
