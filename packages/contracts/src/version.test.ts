import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOOKRELAY_VERSION, USER_AGENT } from './version';

it('sends the version of the root package.json in the User-Agent', () => {
  const root = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8')) as { version: string };
  expect(HOOKRELAY_VERSION).toBe(root.version);
  expect(USER_AGENT).toBe(`Hookrelay/${root.version}`);
});
