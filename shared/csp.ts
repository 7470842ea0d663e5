// The Content-Security-Policy of the interface. Main's app:// protocol (and the test bridge) send
// it as a header; renderer/index.html repeats it in a meta tag minus frame-ancestors, which
// browsers ignore (with a console error) in meta. A unit test keeps the two in step.
export const CSP_META =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";
export const CONTENT_SECURITY_POLICY = `${CSP_META}; frame-ancestors 'none'`;
