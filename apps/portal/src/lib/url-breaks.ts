/**
 * A URL cut into pieces after each `/`, `?`, `&` and `.` of its path and host, so a narrow layout can
 * break it there (with `<wbr>`) instead of in the middle of a word.
 */
export function urlBreakPieces(url: string): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url[i];
    // Not inside `://`: the scheme stays whole.
    if ((c === '/' && url[i - 1] !== ':' && url[i - 1] !== '/') || c === '?' || c === '&' || (c === '.' && i > url.indexOf('//'))) {
      pieces.push(url.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < url.length) pieces.push(url.slice(start));
  return pieces;
}
