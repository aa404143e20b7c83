package postman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
)

// tokenTimeout bounds one token request: the engine's lock wait (60 s) plus
// a refresh.
const tokenTimeout = 2 * time.Minute

// Handler serves GET /token/PROFILE. It never starts an interactive login:
// a profile that needs one answers 409 with the command to run.
type Handler struct {
	// Key is the serve key clients send in X-Lanyard-Key.
	Key string
	// Config loads the profiles file; it is called for every request, so
	// edits to the file apply without a restart.
	Config func() (*config.File, error)
	// Engine hands out the tokens.
	Engine *engine.Engine
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
	cfg, err := h.Config()
	if err != nil {
		return writeError(w, http.StatusInternalServerError, CodeConfig, err.Error())
	}
	p, err := cfg.Profile(name)
	if err != nil {
		return writeError(w, http.StatusNotFound, CodeNotFound, err.Error())
	}
	// A client that hangs up must not abort a refresh half way: the
	// rotated refresh token has to be saved.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), tokenTimeout)
	defer cancel()
	t, err := h.Engine.Token(ctx, p, engine.Options{Interactive: false})
	var le *engine.LoginRequiredError
	switch {
	case errors.As(err, &le):
		return writeError(w, http.StatusConflict, CodeLoginRequired, err.Error())
	case err != nil:
		return writeError(w, http.StatusBadGateway, CodeToken, err.Error())
	}
	return writeJSON(w, http.StatusOK, TokenResponse{
		AccessToken: engine.Value(t, p),
		TokenType:   TokenType(t.TokenType, p.UseIDToken()),
		ExpiresAt:   engine.Expiry(t, p).UTC().Truncate(time.Second),
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
