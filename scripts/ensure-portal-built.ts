// Run before `npm start` (the `prestart` script): builds the subscriber portal when apps/portal/dist
// is missing, so a fresh checkout serves /portal without a separate step. A failed build does not
// stop the API from starting; /portal then says to run `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const index = join(__dirname, '..', 'apps', 'portal', 'dist', 'index.html');

if (!existsSync(index)) {
  process.stdout.write('  The portal is not built yet: running `npm run build` (once)...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build', '--silent'], { cwd: join(__dirname, '..'), stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('  Building the portal failed; the API starts anyway, and /portal will say to run `npm run build`.\n');
  }
}
