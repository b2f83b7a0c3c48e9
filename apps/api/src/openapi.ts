import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: unknown;

/**
 * The API's OpenAPI 3.1 document, kept in the repo at apps/api/openapi.json. Read on first request,
 * not at import: a missing or broken file then fails GET /openapi.json alone, not the whole API.
 */
export function openApiDocument(): unknown {
  cached ??= JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
  return cached;
}
