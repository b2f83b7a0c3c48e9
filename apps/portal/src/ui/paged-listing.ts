import { useState } from 'preact/hooks';
import type { Page } from '../lib/api-types';
import { usePolling } from './hooks';

export interface PagedListing<T> {
  /** The first page and every page loaded after it, each item once; null until the first answer. */
  items: T[] | null;
  /** The last answer's error, until an answer succeeds. */
  error: unknown;
  /** Whether there is a next page to load. */
  hasMore: boolean;
  loadMore(): Promise<void>;
}

/**
 * A listing in creation order (endpoints, sources): the first page refreshed every few seconds,
 * later pages read when asked for (`loadMore`) and kept, so the list shows what is new without
 * reading every page again.
 */
export function usePagedListing<T extends { id: string }>(
  readPage: (cursor?: string) => Promise<Page<T>>,
  deps: unknown[],
): PagedListing<T> {
  const [first, setFirst] = useState<T[] | null>(null);
  const [more, setMore] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  usePolling(
    async () => {
      try {
        const page = await readPage();
        setFirst(page.data);
        if (more.length === 0) setCursor(page.nextCursor);
        setError(null);
      } catch (err) {
        setError(err);
      }
    },
    3000,
    deps,
  );

  async function loadMore() {
    if (!cursor) return;
    try {
      const page = await readPage(cursor);
      setMore((m) => [...m, ...page.data]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err);
    }
  }

  const seen = new Set((first ?? []).map((item) => item.id));
  const items = first === null ? null : [...first, ...more.filter((item) => !seen.has(item.id))];
  return { items, error, hasMore: cursor !== null, loadMore };
}
