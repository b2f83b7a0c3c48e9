import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import express, { Router } from 'express';

/** Where `npm run build` (Vite, apps/portal) writes the subscriber portal. */
export const PORTAL_DIST_DIR = join(__dirname, '..', '..', 'portal', 'dist');

export const PORTAL_NOT_BUILT =
  'The Hookrelay portal is not built yet. Run `npm run build` in the repository (`npm start` builds it when missing), then reload this page.\n';

/**
 * The portal may talk to this origin only, and runs no inline script or style: it holds an API key,
 * so nothing from elsewhere gets to run beside it (and it makes no request beyond the API).
 */
const PORTAL_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * Serves the built subscriber portal (a static single-page app on the public /v1 API) at /portal.
 * Routing is in the URL fragment, so only files are served here: no HTML fallback is needed.
 * Only middleware (no route layers), so the OpenAPI route check does not see /portal as an API route.
 */
export function portalStatic(distDir: string = PORTAL_DIST_DIR, settings: { platformName?: string } = {}): Router {
  const router = Router();
  const config = JSON.stringify({ platformName: settings.platformName ?? null });
  router.use((req, res, next) => {
    res.set(PORTAL_HEADERS);
    // What the operator set for the portal (HOOKRELAY_PLATFORM_NAME): public, so a page whose link
    // has expired (no credential left) can still say whom to ask for a new one.
    if (req.path === '/config.json' && (req.method === 'GET' || req.method === 'HEAD')) {
      return void res.type('application/json').set('cache-control', 'no-cache').send(config);
    }
    // Checked per request, so building while the server runs needs no restart.
    if (!existsSync(join(distDir, 'index.html'))) return void res.status(503).type('text/plain').send(PORTAL_NOT_BUILT);
    next();
  });
  router.use(
    express.static(distDir, {
      index: 'index.html',
      setHeaders: (res, path) => {
        // File names under assets/ carry a content hash; index.html must be checked every time.
        res.setHeader(
          'cache-control',
          relative(distDir, path).startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  return router;
}
