import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { useApiHarness } from '../../../apps/api/src/api-harness';

const run = promisify(execFile);
const GENERATED = join(__dirname, 'generated', 'openapi.ts');
const CLI = join(dirname(require.resolve('openapi-typescript/package.json')), 'bin', 'cli.js');

// The client's types are generated from the OpenAPI document the API serves and checked in; this
// fails as soon as the document changes without them (`npm run generate -w @hookrelay/client`).
describe('the generated OpenAPI types of @hookrelay/client', () => {
  const h = useApiHarness({ worker: false });

  it('are what openapi-typescript makes of the served GET /openapi.json today', async () => {
    // The same options as the package's `generate` script.
    const { stdout } = await run(process.execPath, [CLI, `${h.baseUrl}/openapi.json`, '--default-non-nullable', 'false'], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 60_000,
    });
    const checkedIn = readFileSync(GENERATED, 'utf8');
    if (stdout !== checkedIn)
      throw new Error(
        'packages/client/src/generated/openapi.ts is stale against the served openapi.json: run `npm run generate -w @hookrelay/client` and commit it',
      );
    expect(stdout).toContain('"/v1/subscribers/{sid}/events"');
  });
});
