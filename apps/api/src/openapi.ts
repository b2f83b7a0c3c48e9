import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The API's OpenAPI 3.1 document, kept in the repo at apps/api/openapi.json. */
export const openApiDocument: unknown = JSON.parse(readFileSync(join(__dirname, '..', 'openapi.json'), 'utf8'));
