package browser

import (
	"fmt"
	"html"
	"net/http"
)

// writePage answers the browser with a small self-contained page.
func writePage(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>lanyard: %[1]s</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}</style></head>
<body><h1>%[1]s</h1><p>%[2]s</p></body></html>
`, html.EscapeString(title), html.EscapeString(msg))
}

// fragmentPage is served at the redirect URI in fragment mode (implicit
// grant): browsers keep the fragment to themselves, so a few lines of script
// post it back to this listener (same origin) and show lanyard's answer.
// Once lanyard answered, history.replaceState drops the token from the
// address bar and history.
const fragmentPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>lanyard: finishing login</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}</style></head>
<body><h1>lanyard</h1><p id="msg">Finishing the login&hellip;</p>
<noscript><p>JavaScript is off: copy this page's full address (with the part after #) and paste it into the terminal.</p></noscript>
<script>
(function () {
  var msg = document.getElementById("msg");
  var frag = window.location.hash.replace(/^#/, "");
  fetch(window.location.pathname, {method: "POST", headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: frag})
    .then(function (r) { history.replaceState(null, "", window.location.pathname); return r.text(); })
    .then(function (t) { msg.textContent = t; })
    .catch(function (e) { msg.textContent = "Could not reach lanyard (" + e + "): paste this page's full address into the terminal instead."; });
})();
</script></body></html>
`
