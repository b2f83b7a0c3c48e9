/**
 * A URL cut into pieces after each `/`, `?`, `&` and each `.` before a letter, so a narrow layout can
 * break it there (with `<wbr>`) instead of in the middle of a word.
 */
export function urlBreakPieces(url: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url[i];
    // Not inside `://`: the scheme stays whole; and a dot only before a letter, so an IP address does too.
    const dot = c === '.' && i > url.indexOf('//') && /[A-Za-z]/.test(url[i + 1] ?? '');
    if ((c === '/' && url[i - 1] !== ':' && url[i - 1] !== '/') || c === '?' || c === '&' || dot) {
      pieces.push(url.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < url.length) pieces.push(url.slice(start));
  return pieces;
}
