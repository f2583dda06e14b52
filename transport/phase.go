package transport

import (
	"crypto/tls"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/cosmosrt/cosmosrt/policy"
)

// phases is the innermost stage: it watches each attempt's connection
// (net/http/httptrace) and tags a failed attempt's error with how far the
// attempt got, so that "was it sent?" is decided from what happened on the
// connection rather than from the error's type. A TLS record error read
// with the response, after the request was written, is then ambiguous; a
// TLS handshake timeout is never-sent.
//
// It knows the phases only of a Base that reports them: an *http.Transport
// does; for any other Base an attempt that reported nothing keeps
// PhaseUnknown and Classify falls back to the error's type.
type phases struct {
	next http.RoundTripper
	// traced says next reports every connection it seeks (an
	// *http.Transport), so an error before any report is a local refusal.
	traced bool
}

func newPhases(next http.RoundTripper) *phases {
	_, traced := next.(*http.Transport)
	return &phases{next: next, traced: traced}
}

func (p *phases) RoundTrip(req *http.Request) (*http.Response, error) {
	var w phaseWatch
	ctx := httptrace.WithClientTrace(req.Context(), w.trace())
	resp, err := p.next.RoundTrip(req.WithContext(ctx))
	if err == nil {
		return resp, nil
	}
	phase := w.phase()
	if phase == policy.PhaseUnknown && p.traced {
		phase = policy.PhaseLocal
	}
	return resp, &attemptError{err: err, phase: phase}
}

func (p *phases) CloseIdleConnections() { closeIdle(p.next) }

// phaseWatch records the furthest phase an attempt reached. Its hooks may
// run on net/http's connection goroutines; net/http returns an error only
// after its writer for the request has stopped, so the phase is settled
// when RoundTrip returns.
type phaseWatch struct {
	reached atomic.Uint32 // a policy.Phase; only ever raised
	h2      atomic.Bool   // the connection speaks HTTP/2
}

func (w *phaseWatch) raise(p policy.Phase) {
	for {
		old := w.reached.Load()
		if old >= uint32(p) || w.reached.CompareAndSwap(old, uint32(p)) {
			return
		}
	}
}

func (w *phaseWatch) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { w.raise(policy.PhaseConnecting) },
		GotConn: func(info httptrace.GotConnInfo) {
			if c, ok := info.Conn.(*tls.Conn); ok && c.ConnectionState().NegotiatedProtocol == "h2" {
				w.h2.Store(true)
			}
			w.raise(policy.PhaseConnected)
		},
		WroteHeaders: func() { w.raise(policy.PhaseWritten) },
		WroteRequest: func(httptrace.WroteRequestInfo) { w.raise(policy.PhaseWritten) },
	}
}

// phase returns the phase reached. On an HTTP/2 connection the request is
// written by another goroutine that net/http does not wait for before
// returning an error, so a request that had its connection counts as
// possibly written.
func (w *phaseWatch) phase() policy.Phase {
	p := policy.Phase(w.reached.Load())
	if p == policy.PhaseConnected && w.h2.Load() {
		return policy.PhaseWritten
	}
	return p
}

// attemptError is an attempt's error with the phase the attempt reached.
// Its message and chain are the original error's.
type attemptError struct {
	err   error
	phase policy.Phase
}

func (e *attemptError) Error() string              { return e.err.Error() }
func (e *attemptError) Unwrap() error              { return e.err }
func (e *attemptError) RequestPhase() policy.Phase { return e.phase }
