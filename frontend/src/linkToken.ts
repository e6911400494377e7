// Account links carry their token in the URL fragment (`#token=...`), which
// browsers never send to a server, so no access log or proxy sees it. The
// page takes it once and drops the fragment from the address bar and the
// history entry, so it is not left behind for a screenshot or a shared tab.

export function takeLinkToken(): string {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = params.get("token") ?? "";
  if (window.location.hash) {
    window.history.replaceState(window.history.state, "", window.location.pathname + window.location.search);
  }
  return token;
}
