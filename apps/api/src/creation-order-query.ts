import { isCreationOrderCursor } from '@hookrelay/store';
import { z } from 'zod';

/**
 * The query of a listing in creation order, oldest first (endpoints, sources): a page size and
 * the previous page's `nextCursor`. One schema, so both listings take and refuse the same values.
 */
export const creationOrderQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).refine(isCreationOrderCursor, 'not a cursor from a previous page (omit it for the first page)').optional(),
});
