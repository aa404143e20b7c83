package agent

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lanyardhq/lanyard/internal/agent/wire"
	"github.com/lanyardhq/lanyard/internal/audit"
	"github.com/lanyardhq/lanyard/internal/config"
	"github.com/lanyardhq/lanyard/internal/engine"
	"github.com/lanyardhq/lanyard/internal/grant"
	"github.com/lanyardhq/lanyard/internal/peercred"
)

// Confirmer asks a person whether a caller (key) may have a profile's
// token (internal/confirm.Asker).
type Confirmer interface {
	Ask(ctx context.Context, key, description string) error
}

// allowed says whether a peer of uid may talk to s: our own uid (or
// s.UID), and those listed in s.AllowUIDs (lanyard agent forward
// --allow-uid).
func (s *Server) allowed(uid uint32) bool {
	return uid == s.uid() || slices.Contains(s.AllowUIDs, uid)
}

// event is the audit event of one request from p on socket.
func (s *Server) event(p peercred.Cred, socket string, req *wire.Request) audit.Event {
	uid := p.UID
	e := audit.Event{PID: p.PID, UID: &uid, Exe: p.Exe, Via: socket, Forward: s.Forward, Tool: req.Tool, Profile: req.Profile}
	e.URL = req.URL
	if e.URL == "" && len(req.Candidates) > 0 {
		e.URL = req.Candidates[0]
	}
	return e
}

// gate applies the confirm policy to an answer about to go to p, and
// records it: a hand-out, or a refusal with its reason.
func (s *Server) gate(ctx context.Context, p peercred.Cred, socket string, req *wire.Request, resp *wire.Response) *wire.Response {
	if req.Op != wire.OpGet || resp == nil {
		return resp
	}
	s.uses.Add(1)
	defer func() { s.Metrics.Request(req.Tool, resp.Status) }()
	e := s.event(p, socket, req)
	if resp.Profile != "" {
		e.Profile = resp.Profile
	}
	if resp.Status == wire.StatusOK && resp.Token != "" && s.Confirm != nil {
		key := fmt.Sprintf("%s\x00%d\x00%s", resp.Profile, p.UID, p.Exe)
		desc := fmt.Sprintf("lanyard forward %s: allow %s (pid %d, uid %d) to use profile %s?", s.Forward, filepath.Base(cmp.Or(p.Exe, "an unknown program")), p.PID, p.UID, resp.Profile)
		if err := s.Confirm.Ask(ctx, key, desc); err != nil {
			e.Kind, e.Reason = audit.KindRefusal, "confirm: "+err.Error()
			s.Audit.Record(e)
			return &wire.Response{Status: wire.StatusError, Profile: resp.Profile, Message: fmt.Sprintf("profile %s: %v (lanyard agent forward --confirm)", resp.Profile, err)}
		}
	}
	switch {
	case resp.Status == wire.StatusOK && resp.Token != "":
		switch {
		case req.Tool == wire.ToolProxy:
			s.Metrics.Handout("proxy")
		case len(req.Only) > 0:
			s.Metrics.Handout("forward")
		default:
			s.Metrics.Handout("socket")
		}
		if len(req.Only) > 0 && s.Forward == "" {
			// Through a forward: the forward, which knows the real
			// caller, records the hand-out.
			return resp
		}
		e.Kind, e.Fingerprint = audit.KindHandout, audit.Fingerprint(resp.Token)
	case resp.Status == wire.StatusNoMatch:
		return resp
	default:
		e.Kind, e.Reason = audit.KindRefusal, resp.Status+": "+firstLine(resp.Message)
	}
	s.Audit.Record(e)
	return resp
}

// refuse counts a connection turned away before its request (another
// uid, or too many open) and records it: in the log, and in the audit
// log, bounded (refusalsAudited).
func (s *Server) refuse(p peercred.Cred, socket, why string) {
	s.refused.Add(1)
	s.Log.Warn("refused a connection", "why", why, "peer_uid", p.UID, "peer_pid", p.PID)
	recorded := false
	s.refusalsAudited.Do(func() {
		recorded = true
		if n := s.refusalsSkipped.Swap(0); n > 0 {
			why = fmt.Sprintf("%s (and %d more refusals not recorded one by one)", why, n)
		}
		e := audit.Event{Kind: audit.KindRefusal, PID: p.PID, Exe: p.Exe, Via: socket, Forward: s.Forward, Reason: why}
		if p != (peercred.Cred{}) {
			uid := p.UID
			e.UID = &uid
		}
		s.Audit.Record(e)
	})
	if !recorded {
		s.refusalsSkipped.Add(1)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// obtain is eng.Token, recorded: a token the store did not already hold
// is a refresh (or, when interactive, a login), with its duration and, on
// failure, the provider's error code.
func (h *Handler) obtain(ctx context.Context, eng *engine.Engine, p *config.Profile, opt engine.Options) (*engine.Token, error) {
	var prev string
	if h.Audit != nil || h.Metrics != nil {
		if t, err := eng.Cached(p); err == nil && t != nil {
			prev = t.AccessToken + "\x00" + t.IDToken
		}
	}
	start := time.Now()
	t, err := eng.Token(ctx, p, opt)
	took := time.Since(start)
	if err == nil && t != nil && t.AccessToken+"\x00"+t.IDToken == prev {
		return t, err // the stored token: no refresh
	}
	e := audit.Event{Kind: audit.KindRefresh, Profile: p.Name, Seconds: took.Seconds(), Result: "ok"}
	if opt.Interactive {
		e.Kind = audit.KindLogin
	}
	if err != nil {
		e.Result = "error"
		if engine.IsLoginRequired(err) {
			e.Result = "login_required"
		}
		if te, ok := grant.AsTokenError(err); ok {
			e.ErrorCode = te.Code
		}
	}
	h.Audit.Record(e)
	h.Metrics.Refresh(e.Result, took, opt.Interactive)
	return t, err
}

// local answers what the server itself knows (metrics); nil, nil hands
// the request to the resolver.
func (s *Server) local(req *wire.Request) (*wire.Response, error) {
	if req.Op != wire.OpMetrics || s.Metrics == nil {
		return nil, nil
	}
	text, err := s.Metrics.Text()
	if err != nil {
		return nil, err
	}
	return &wire.Response{Status: wire.StatusOK, Metrics: text}, nil
}
