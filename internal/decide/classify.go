package decide

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/cosmosrt/cosmosrt/internal/wire"
)

// An Outcome is what one attempt's answer means to the retry rules.
type Outcome uint8

// The outcomes of an attempt.
const (
	OK                  Outcome = iota // 2xx, 304
	Final                              // 400, 401, 404, 405, 409, 412, 413, other 403, other statuses: returned as they are
	throttled                          // 429
	retryWith                          // 449
	unavailable                        // 503
	serverError                        // 500
	requestTimeout                     // 408
	WriteForbidden                     // 403 with x-ms-substatus 3
	regionNotFound                     // 403 with x-ms-substatus 1008
	sessionNotAvailable                // 404 with x-ms-substatus 1002
	NeverSent                          // transport error before the request left: refused, DNS, TLS handshake, headers not written
	Ambiguous                          // transport error after the request may have been sent: reset, EOF, timeout
	canceled                           // the caller's context ended (context.Canceled / DeadlineExceeded)
	circuitOpen                        // an endpoint's open circuit refused the attempt: nothing was sent
)

var outcomeNames = [...]string{
	OK:                  "ok",
	Final:               "final",
	throttled:           "throttled",
	retryWith:           "retry_with",
	unavailable:         "unavailable",
	serverError:         "server_error",
	requestTimeout:      "request_timeout",
	WriteForbidden:      "write_forbidden",
	regionNotFound:      "region_not_found",
	sessionNotAvailable: "session_not_available",
	NeverSent:           "never_sent",
	Ambiguous:           "ambiguous",
	canceled:            "canceled",
	circuitOpen:         "circuit_open",
}

// String returns the outcome's short snake_case name ("ok", "throttled",
// "retry_with", ...), suitable as a metric label; "unknown" for a value
// that is not one of the constants.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// A Phase is how far an attempt got on its connection before it failed.
// The transport learns it from what happened on the connection
// (net/http/httptrace), not from the error, so that an error that can occur
// at any point (a TLS record error, a reset) is judged by when it occurred.
type Phase uint8

// The phases of an attempt, in the order an attempt goes through them.
const (
	// PhaseUnknown: nothing was reported (a RoundTripper that does not
	// trace its connections). The error's type decides.
	PhaseUnknown Phase = iota
	// PhaseLocal: the request was refused before a connection was sought
	// (a bad URL, header or body): sending it again cannot help.
	PhaseLocal
	// PhaseConnecting: looking up, dialling or handshaking; nothing of the
	// request has left.
	PhaseConnecting
	// PhaseConnected: a connection was ready but the request's headers
	// were not all written, so the service cannot have run it.
	PhaseConnected
	// PhaseWritten: the request's headers were written; the service may
	// have run it.
	PhaseWritten
)

// A phaser is an error that knows the Phase its attempt reached. The
// transport wraps the errors of its attempts in one.
type phaser interface {
	error
	RequestPhase() Phase
}

// classify returns the Outcome of one attempt, given what the next
// RoundTripper returned. Exactly one of resp and err should be non-nil; if
// both are, the error wins and the response is ignored (as http.Client
// does); if neither is, the attempt is Ambiguous.
//
// Errors are recognised by type and value (errors.Is and errors.As),
// never by their text. An error that says a circuit breaker refused the
// attempt (through a method CircuitOpen(), as the transport's
// *CircuitOpenError does) is circuitOpen: nothing was sent. An error that
// says the caller's request body failed (through a method
// RequestBodyFailed()) is Final: the request was cut short. A context
// error is canceled. An error that reports
// its Phase (through a method RequestPhase() Phase, as the transport's
// attempt errors do) is judged by it: PhaseLocal is Final, PhaseConnecting
// and PhaseConnected are NeverSent, PhaseWritten is Ambiguous whatever the
// error's type. Otherwise only errors that can occur nowhere but in
// setting up a connection are NeverSent: a *net.OpError with Op "dial" or
// "proxyconnect", a *net.DNSError, ECONNREFUSED, a certificate error.
// Every other error (connection reset, EOF, timeouts, TLS record and alert
// errors, which may arrive with the response, anything unknown) is
// Ambiguous: the service may have run the request. The caller of classify
// should treat an attempt as canceled whatever the error once the
// request's own context has ended.
func classify(resp *http.Response, err error) Outcome {
	if err != nil {
		return classifyError(err)
	}
	if resp == nil {
		return Ambiguous
	}
	return classifyStatus(resp.StatusCode, wire.SubStatus(resp.Header))
}

// bodyFailure is the marker of an error of the caller's request body (its
// reader failed, or its length was not the announced one): the request
// was cut short.
type bodyFailure interface{ RequestBodyFailed() }

// circuitOpener is the marker of an error returned by a circuit breaker
// instead of sending the attempt.
type circuitOpener interface{ CircuitOpen() }

func classifyStatus(status, sub int) Outcome {
	switch {
	case status >= 200 && status <= 299, status == http.StatusNotModified:
		return OK
	case status == http.StatusTooManyRequests:
		return throttled
	case status == 449:
		return retryWith
	case status == http.StatusServiceUnavailable:
		return unavailable
	case status == http.StatusInternalServerError:
		return serverError
	case status == http.StatusRequestTimeout:
		return requestTimeout
	case status == http.StatusForbidden && sub == wire.SubStatusWriteForbidden:
		return WriteForbidden
	case status == http.StatusForbidden && sub == wire.SubStatusRegionNotFound:
		return regionNotFound
	case status == http.StatusNotFound && sub == wire.SubStatusSessionNotAvailable:
		return sessionNotAvailable
	default:
		return Final
	}
}

func classifyError(err error) Outcome {
	var open circuitOpener
	if errors.As(err, &open) {
		return circuitOpen
	}
	var body bodyFailure
	if errors.As(err, &body) {
		return Final // the caller's body, cut short: the service cannot run an incomplete request
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return canceled
	}
	var p phaser
	if errors.As(err, &p) {
		switch p.RequestPhase() {
		case PhaseLocal:
			return Final
		case PhaseConnecting, PhaseConnected:
			return NeverSent
		case PhaseWritten:
			return Ambiguous
		}
	}
	if neverSent(err) {
		return NeverSent
	}
	// Resets, EOFs, timeouts and anything unrecognised: the request may
	// have reached the service.
	return Ambiguous
}

// neverSent reports whether err is of a kind that only setting up a
// connection produces, before any byte of the request was written.
func neverSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var (
		verifyErr  *tls.CertificateVerificationError
		echErr     *tls.ECHRejectionError
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) ||
		errors.As(err, &echErr) ||
		errors.As(err, &unknownCA) ||
		errors.As(err, &hostErr) ||
		errors.As(err, &invalidErr)
}
