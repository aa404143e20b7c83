package postman

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/config"
)

// tokenTimeout bounds one token request: the engine's lock wait (60 s) plus
// a refresh.
const tokenTimeout = 2 * time.Minute

// Handler serves GET /token/PROFILE. It never starts an interactive login:
// a profile that needs one answers 409 with the command to run.
type Handler struct {
	// Key is the serve key clients send in X-Lanyard-Key.
	Key string
	// Resolver hands out the tokens: the agent client, as for every tool,
	// so Postman gets the agent's memory and refresh ahead. The profiles
	// file is read on every request there, so edits apply at once.
	Resolver wire.Resolver
	// Log gets one line per request: method, path, status, duration. Never
	// a token or the key.
	Log io.Writer
	// Now is the clock for the request log (default time.Now).
	Now func() time.Time

	logMu sync.Mutex
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	status := h.serve(w, r)
	if h.Log != nil {
		h.logMu.Lock()
		// %q: the path is the client's, and must not forge log lines.
		fmt.Fprintf(h.Log, "lanyard serve: %s %q %d %s\n", r.Method, r.URL.Path, status, h.now().Sub(start).Round(time.Millisecond))
		h.logMu.Unlock()
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) int {
	if ref := Check(r, h.Key); ref != nil {
		if ref.Status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", http.MethodGet)
		}
		return writeJSON(w, ref.Status, ref.ErrorResponse)
	}
	name, ok := ProfileFromPath(r.URL.Path)
	if !ok {
		return writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint; use GET "+TokenPath+"PROFILE")
	}
	// A client that hangs up must not abort a refresh half way: the
	// rotated refresh token has to be saved.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), tokenTimeout)
	defer cancel()
	resp, err := h.Resolver.Resolve(ctx, &wire.Request{Op: wire.OpGet, Tool: wire.ToolToken, Profile: name})
	if err != nil {
		return writeError(w, http.StatusBadGateway, CodeToken, err.Error())
	}
	switch resp.Status {
	case wire.StatusOK:
	case wire.StatusLoginRequired:
		return writeError(w, http.StatusConflict, CodeLoginRequired, resp.Message)
	case wire.StatusBadConfig:
		if strings.Contains(resp.Message, config.ErrNoProfile.Error()) {
			return writeError(w, http.StatusNotFound, CodeNotFound, resp.Message)
		}
		return writeError(w, http.StatusInternalServerError, CodeConfig, resp.Message)
	default:
		return writeError(w, http.StatusBadGateway, CodeToken, resp.Message)
	}
	return writeJSON(w, http.StatusOK, TokenResponse{
		AccessToken: resp.Token,
		TokenType:   resp.TokenType,
		ExpiresAt:   resp.Expiry.UTC().Truncate(time.Second),
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) int {
	return writeJSON(w, status, ErrorResponse{Error: code, Description: msg})
}

// writeJSON writes v with headers that keep tokens out of caches and
// browsers' hands.
func writeJSON(w http.ResponseWriter, status int, v any) int {
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
	return status
}
