import { useEffect, useRef, useState } from 'preact/hooks';
import { PollLoop } from '../lib/poll-loop';

/**
 * Runs `load` now and then every `intervalMs` while the tab is visible, never two at once
 * (`PollLoop`): the portal's live view is polling (the API has no push channel), and a hidden tab
 * asks for nothing. Changing `deps` starts over at once.
 */
export function usePolling(load: () => Promise<void>, intervalMs: number, deps: unknown[], enabled = true): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    if (!enabled) return;
    const loop = new PollLoop({ load: () => latest.current(), intervalMs, isHidden: () => document.hidden });
    loop.start();
    const onVisible = () => loop.shown();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      loop.stop();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [...deps, intervalMs, enabled]);
}

/** The current time, refreshed every `everyMs`, for "3 min ago" texts. */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/** Sets the document title and moves focus to the page's heading when the view changes. */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Hookrelay portal`;
  }, [title]);
}
