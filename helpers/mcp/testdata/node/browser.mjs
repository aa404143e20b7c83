// The test's browser ($BROWSER): opens the URL lanyard gives it and follows
// the redirects, as a person who is logged in and consents would; the
// authorization server answers at once and redirects to lanyard's loopback
// listener.
const r = await fetch(process.argv[2]);
await r.text();
