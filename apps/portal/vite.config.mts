import { defineConfig } from 'vite';

// Built to apps/portal/dist and served by the API at /portal (apps/api/src/portal-static.ts).
// `npm run dev -w @hookrelay/portal` proxies /v1 to an API on :3000 while working on the UI.
export default defineConfig({
  base: '/portal/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline data: URLs for scripts, so the page runs under a strict Content-Security-Policy.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:3000' } },
});
