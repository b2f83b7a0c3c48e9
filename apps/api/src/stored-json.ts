import type { Response } from 'express';

/**
 * Answers `fields` as a JSON object followed by `stored`, fields whose values are JSON text already
 * (an event's payload and a delivery's attempts as Redis keeps them), written as they are: parsing
 * and serialising them again cost the event loop 120 ms for a 1 MiB payload, for every reader. The
 * text must be JSON (JSON.stringify wrote it); `fields` must hold at least one field.
 */
export function sendWithStoredJson(res: Response, fields: Record<string, unknown>, stored: Record<string, string>): void {
  const head = JSON.stringify(fields).slice(0, -1);
  const tail = Object.entries(stored).map(([name, json]) => `,${JSON.stringify(name)}:${json}`);
  res.type('application/json').send(`${head}${tail.join('')}}`);
}
