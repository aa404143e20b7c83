package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRequestRoundTrip(t *testing.T) {
	tests := []Request{
		{Op: OpPing},
		{Op: OpGet, Tool: ToolGit, URL: "https://git.example.com/acme/app.git", Interactive: true},
		{Op: OpGet, Tool: ToolDocker, URL: "registry.example.com", Candidates: []string{"https://registry.example.com", "http://registry.example.com"}},
		{Op: OpGet, Tool: ToolKubectl, Profile: "k", ClusterProfile: "c", Use: "id_token", MinTTL: 90 * time.Second, Rejected: Fingerprint("t")},
		{Op: OpErase, Tool: ToolToken, Profile: "p", ForceRefresh: true},
	}
	for _, want := range tests {
		t.Run(want.Op+"/"+want.Tool, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteRequest(&b, &want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadRequest(&b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got %+v, want %+v", *got, want)
			}
		})
	}
}

func TestResponseRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []Response{
		{Status: StatusOK, Token: "tok", TokenType: "Bearer", Expiry: exp, Profile: "p", GitUsername: "x-access-token", DockerUsername: "d"},
		{Status: StatusNoMatch},
		{Status: StatusLoginRequired, Profile: "p", Message: `profile "p": not logged in; run: lanyard login p`},
		{Status: StatusOK, Agent: &AgentStatus{PID: 7, Started: exp, Socket: "/s", Profiles: []ProfileStatus{{Name: "p", InMemory: true, Expiry: exp, LastError: "x"}}}},
	}
	for _, want := range tests {
		t.Run(want.Status, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteResponse(&b, &want); err != nil {
				t.Fatal(err)
			}
			got, err := ReadResponse(&b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got %+v, want %+v", *got, want)
			}
		})
	}
}

func frame(n uint32, body string) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	return append(b, body...)
}

func TestReadRequestRefuses(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "EOF"},
		{"short header", []byte{0, 0}, "unexpected EOF"},
		{"over the cap", frame(MaxRequest+1, ""), "too large"},
		{"huge prefix", frame(0xffffffff, ""), "too large"},
		{"truncated body", frame(10, `{"op"`), "unexpected EOF"},
		{"not json", frame(3, "abc"), "malformed"},
		{"no op", frame(2, "{}"), "without op"},
		{"array", frame(2, "[]"), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadRequest(bytes.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteRefusesOversize(t *testing.T) {
	err := WriteRequest(io.Discard, &Request{Op: OpGet, URL: strings.Repeat("u", MaxRequest)})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("got %v, want ErrTooLarge", err)
	}
}

// FuzzReadRequest: the agent decodes whatever a local process sends; it
// must never panic, never allocate past the cap, and what it accepts must
// survive a round trip.
func FuzzReadRequest(f *testing.F) {
	var b bytes.Buffer
	_ = WriteRequest(&b, &Request{Op: OpGet, Tool: ToolGit, URL: "https://h/p", MinTTL: time.Second})
	f.Add(b.Bytes())
	f.Add(frame(2, "{}"))
	f.Add(frame(0xffffffff, ""))
	f.Add(frame(14, `{"op":"ping"}x`))
	f.Add(frame(30, `{"op":"get","min_ttl":-1e99}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ReadRequest(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteRequest(&out, req); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return // JSON escaping may grow a message near the cap
			}
			t.Fatal(err)
		}
		again, err := ReadRequest(&out)
		if err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("round trip changed %+v into %+v", req, again)
		}
	})
}
