// Where the sign-in page may send the browser back to: the OHIF viewer sends a browser without a
// session to "<ui>/index.html?next=<its address>". Only an address of this origin, below the
// viewer's path, is followed; anything else (another site, "//evil", "/\tevil", javascript:)
// is ignored, so the sign-in page cannot be made to forward users elsewhere.
//   next: the ?next= value; here: the page's address (location.href)
// Returns the address to go to, or ''.
export function viewerReturnAddress(next, here) {
  if (!next) return '';
  const page = new URL(here);
  const viewer = new URL('../viewer', page);  // the page is <prefix>/ui/index.html
  let target;
  try {
    target = new URL(next, page);
  } catch {
    return '';
  }
  if (target.origin !== page.origin) return '';
  if (target.pathname !== viewer.pathname && !target.pathname.startsWith(`${viewer.pathname}/`)) return '';
  return target.href;
}
