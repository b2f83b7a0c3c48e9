import { urlBreakPieces } from './url-breaks';

describe('urlBreakPieces', () => {
  it('breaks after each slash, dot of the host, ? and &, keeping the scheme whole', () => {
    expect(urlBreakPieces('https://hooks.example.com/v1/receivers/zenduty?team=payments&x=1')).toEqual([
      'https://hooks.',
      'example.',
      'com/',
      'v1/',
      'receivers/',
      'zenduty?',
      'team=payments&',
      'x=1',
    ]);
  });

  it('keeps an IP address whole', () => {
    expect(urlBreakPieces('http://127.0.0.1:4000/hooks')).toEqual(['http://127.0.0.1:4000/', 'hooks']);
  });

  it('gives back the URL when joined, whatever it is', () => {
    for (const url of ['http://127.0.0.1:4000/hooks', 'not a url', '', 'https://x/']) expect(urlBreakPieces(url).join('')).toBe(url);
  });
});
