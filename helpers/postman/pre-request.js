// lanyard pre-request script for Postman and newman.
//
// Paste it as the pre-request script of a collection or folder. It asks
// `lanyard serve` for a fresh token for every request and sends it as
// "Authorization: Bearer TOKEN" (or as the access_token query parameter).
// Variables (environment, collection or globals):
//   lanyard_url      the URL lanyard serve printed, e.g. http://127.0.0.1:8477
//   lanyard_key      the key lanyard serve printed (also in its key file)
//   lanyard_profile  the lanyard profile to use
//   lanyard_mode     optional: "header" (default) or "query"
// The token is also put in the request-local variable lanyard_token, for
// requests that use Postman's "Bearer Token" auth with {{lanyard_token}}.
// It is never written to an environment, collection or global variable, so
// it never syncs anywhere. When lanyard serve cannot give a token, the
// request is not sent and a failed test says why.
(function lanyard() {
    var url = pm.variables.get('lanyard_url');
    var key = pm.variables.get('lanyard_key');
    var profile = pm.variables.get('lanyard_profile');
    var mode = pm.variables.get('lanyard_mode') || 'header';

    function fail(message) {
        pm.test('lanyard: ' + message, function () {
            throw new Error(message);
        });
        if (pm.execution && pm.execution.skipRequest) {
            pm.execution.skipRequest(); // never send the request unauthenticated
        }
    }

    var missing = ['lanyard_url', 'lanyard_key', 'lanyard_profile'].filter(function (name) {
        return !pm.variables.get(name);
    });
    if (missing.length) {
        fail('set the variable(s) ' + missing.join(', ') + ' (run: lanyard serve; it prints the URL and key)');
        return;
    }
    if (mode !== 'header' && mode !== 'query') {
        fail('lanyard_mode is "' + mode + '"; use "header" or "query"');
        return;
    }
    var tokenURL = String(url).replace(/\/+$/, '') + '/token/' + encodeURIComponent(profile);

    pm.sendRequest({
        url: tokenURL,
        method: 'GET',
        header: [{ key: 'X-Lanyard-Key', value: String(key) }]
    }, function (err, res) {
        if (err) {
            // In the sandbox err is a plain object: {code: "ECONNREFUSED", ...}.
            var why = err.message || err.code || JSON.stringify(err);
            fail('lanyard serve is not reachable at ' + url + ' (' + why +
                '); start it with: lanyard serve, and set lanyard_url to the URL it prints');
            return;
        }
        var body = null;
        try {
            body = res.json();
        } catch (e) {
            body = null;
        }
        if (res.code !== 200 || !body || !body.access_token) {
            var why = body && body.error_description ? body.error_description : 'HTTP ' + res.code + ' ' + res.status;
            fail('no token for profile ' + profile + ': ' + why);
            return;
        }
        var type = /^bearer$/i.test(body.token_type || 'Bearer') ? 'Bearer' : body.token_type;
        pm.variables.set('lanyard_token', body.access_token);
        if (mode === 'query') {
            pm.request.url.query.upsert({ key: 'access_token', value: body.access_token });
        } else {
            pm.request.headers.upsert({ key: 'Authorization', value: type + ' ' + body.access_token });
        }
    });
})();
