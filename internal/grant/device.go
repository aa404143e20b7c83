package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/mdp/qrterminal/v3"
	"golang.org/x/oauth2"
	"rsc.io/qr"
)

// DeviceRequest describes one device authorization grant (RFC 8628).
type DeviceRequest struct {
	// DeviceAuthURL is the device authorization endpoint.
	DeviceAuthURL string
	Scopes        []string
	// Params are added to the device authorization request (auth_params).
	Params map[string]string
	// Sleep waits between polls; nil uses a timer that respects ctx. Tests
	// pass one that does not wait, so they never sleep for the interval.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultPollInterval is RFC 8628 §3.2's interval when the server sends none.
const DefaultPollInterval = 5 * time.Second

// slowDownStep is what slow_down adds to the interval (RFC 8628 §3.5).
const slowDownStep = 5 * time.Second

// DeviceError is a device flow that ended without a token: the code
// expired or the person denied it.
type DeviceError struct {
	Code, Description string
}

func (e *DeviceError) Error() string {
	msg := "the device login failed: " + Printable(e.Code)
	switch e.Code {
	case "expired_token":
		msg = "the device code expired before the login was approved"
	case "access_denied":
		msg = "the device login was denied at the verification page"
	}
	if e.Description != "" {
		msg += " (" + Printable(e.Description) + ")"
	}
	return msg
}

// DeviceCode runs the device authorization grant (RFC 8628): it asks for a
// user code, shows the verification URI and code (and a QR code of
// verification_uri_complete on a terminal), and polls the token endpoint
// with c, honouring interval and slow_down, until the person approves,
// denies, the code expires, or in.Timeout passes.
func DeviceCode(ctx context.Context, c *Client, r DeviceRequest, in Interaction) (*Token, error) {
	if r.DeviceAuthURL == "" {
		return nil, errors.New("no device authorization endpoint: set device_auth_url, or an issuer whose discovery document has device_authorization_endpoint")
	}
	timeout := in.timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	da, err := deviceAuth(ctx, c, r)
	if err != nil {
		return nil, err
	}
	// The server's text reaches the terminal: no control characters.
	da.UserCode, da.VerificationURI, da.VerificationURIComplete = Printable(da.UserCode), Printable(da.VerificationURI), Printable(da.VerificationURIComplete)
	if da.DeviceCode == "" || da.UserCode == "" || da.VerificationURI == "" {
		return nil, &TokenError{Endpoint: r.DeviceAuthURL, Status: http.StatusOK, Err: errors.New("device authorization response lacks device_code, user_code or verification_uri")}
	}
	ui := in.ui()
	fmt.Fprintf(ui, "lanyard: to log in, open this URL on any device:\n\n    %s\n\nlanyard: and enter the code:\n\n    %s\n\n", da.VerificationURI, da.UserCode)
	if da.VerificationURIComplete != "" {
		if in.UITerminal {
			fmt.Fprintf(ui, "lanyard: or scan this QR code (%s):\n", da.VerificationURIComplete)
			writeQR(ui, da.VerificationURIComplete)
		} else {
			fmt.Fprintf(ui, "lanyard: or open, with the code filled in: %s\n", da.VerificationURIComplete)
		}
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	if !da.Expiry.IsZero() {
		fmt.Fprintf(ui, "lanyard: waiting for the approval (the code expires at %s)…\n", da.Expiry.Local().Format(time.Kitchen))
	} else {
		fmt.Fprintln(ui, "lanyard: waiting for the approval…")
	}

	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	sleep := r.Sleep
	if sleep == nil {
		sleep = (&Client{}).sleep
	}
	for {
		if err := sleep(ctx, interval); err != nil {
			return nil, deviceWaitError(ctx, err, timeout)
		}
		if !da.Expiry.IsZero() && now().After(da.Expiry) {
			return nil, &DeviceError{Code: "expired_token"}
		}
		t, err := c.Exchange(ctx, Param{"grant_type", "urn:ietf:params:oauth:grant-type:device_code"}, Param{"device_code", da.DeviceCode})
		if err == nil {
			return t, nil
		}
		if ctx.Err() != nil {
			return nil, deviceWaitError(ctx, ctx.Err(), timeout)
		}
		te, ok := AsTokenError(err)
		if !ok {
			return nil, err
		}
		switch te.Code {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownStep
		case "expired_token", "access_denied":
			return nil, &DeviceError{Code: te.Code, Description: te.Description}
		default:
			return nil, err
		}
	}
}

// writeQR draws text as a QR code with half blocks; a text too long to
// encode draws nothing (the URL was printed already).
func writeQR(w io.Writer, text string) {
	if _, err := qr.Encode(text, qr.L); err != nil {
		return
	}
	qrterminal.GenerateHalfBlock(text, qrterminal.L, w)
}

func deviceWaitError(ctx context.Context, err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: the device login was not approved within %s (use --timeout to wait longer)", ErrLoginTimeout, timeout)
	}
	return err
}

// deviceAuth posts the device authorization request (RFC 8628 §3.1) with
// the client's authentication and dialect, and decodes the answer with
// x/oauth2's DeviceAuthResponse (which also reads Google's
// verification_url spelling).
func deviceAuth(ctx context.Context, c *Client, r DeviceRequest) (*oauth2.DeviceAuthResponse, error) {
	params := []Param{c.scope(r.Scopes)}
	for _, k := range slices.Sorted(maps.Keys(r.Params)) {
		params = append(params, Param{k, r.Params[k]})
	}
	body, err := c.withClientAuth(ctx, params)
	if err != nil {
		return nil, err
	}
	dc := *c
	dc.TokenURL = r.DeviceAuthURL
	req, err := dc.newRequest(ctx, body)
	if err != nil {
		return nil, err
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, &TokenError{Endpoint: r.DeviceAuthURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &TokenError{Endpoint: r.DeviceAuthURL, Err: fmt.Errorf("reading response: %w", err)}
	}
	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	jerr := json.Unmarshal(data, &oe)
	if resp.StatusCode < 200 || resp.StatusCode > 299 || oe.Error != "" {
		te := &TokenError{Endpoint: r.DeviceAuthURL, Status: resp.StatusCode}
		if jerr == nil && oe.Error != "" {
			te.Code, te.Description, te.URI = oe.Error, oe.Description, oe.URI
		} else {
			te.Body = bodyLine(resp.StatusCode, string(data))
		}
		return nil, te
	}
	var da oauth2.DeviceAuthResponse
	if err := json.Unmarshal(data, &da); err != nil {
		return nil, &TokenError{Endpoint: r.DeviceAuthURL, Status: resp.StatusCode, Body: bodyLine(resp.StatusCode, string(data)), Err: errors.New("device authorization response is not JSON")}
	}
	return &da, nil
}
