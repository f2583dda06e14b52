package instrument

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"syscall"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// errorTypeOf returns error.type for err, a name that is stable across
// runs and platforms and takes few values, as the semantic conventions ask.
// The name is found with errors.Is and errors.As, never from the error's
// text, and the first rule that matches wins:
//
//	timeout                     context.DeadlineExceeded
//	canceled                    context.Canceled
//	(its value)                 an error in the chain with a non-empty ErrorType() string method
//	server_certificate_invalid  the server's certificate failed verification (crypto/x509, crypto/tls)
//	tls_handshake               any other TLS handshake failure: the server does not
//	                            speak TLS (http.ErrSchemeMismatch), an alert, ECH rejected
//	dns_not_found               a *net.DNSError for a name that does not exist
//	dns_timeout                 a *net.DNSError that timed out
//	dns_error                   any other *net.DNSError
//	connection_refused          ECONNREFUSED
//	connection_reset            ECONNRESET
//	connection_aborted          ECONNABORTED
//	broken_pipe                 EPIPE
//	host_unreachable            EHOSTUNREACH
//	network_unreachable         ENETUNREACH
//	timeout                     os.ErrDeadlineExceeded, or a net.Error whose Timeout() is true
//	unexpected_eof              io.ErrUnexpectedEOF
//	eof                         io.EOF
//	connection_closed           net.ErrClosed
//	dial_error                  a *net.OpError of a dial
//	read_error                  a *net.OpError of a read
//	write_error                 a *net.OpError of a write
//	proxy_connect_error         a *net.OpError of a proxy CONNECT
//	network_error               any other *net.OpError
//	(package path.Type)         the innermost error of an exported named type
//	                            other than *url.Error and *os.SyscallError,
//	                            such as "encoding/json.SyntaxError"
//	_OTHER                      anything else (errors.New, fmt.Errorf without %w, ...)
func errorTypeOf(err error) attribute.KeyValue {
	if name := errorTypeName(err); name != "" {
		return semconv.ErrorTypeKey.String(name)
	}
	return semconv.ErrorTypeOther
}

// ErrorType returns the value of error.type for err (see errorTypeOf).
func ErrorType(err error) string {
	return errorTypeOf(err).Value.AsString()
}

// errorTypeName applies the rules of errorTypeOf but the last; "" if none
// matches.
func errorTypeName(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	var typed interface{ ErrorType() string }
	if errors.As(err, &typed) {
		if s := typed.ErrorType(); s != "" {
			return s
		}
	}
	if s := tlsErrorType(err); s != "" {
		return s
	}
	if s := netErrorType(err); s != "" {
		return s
	}
	return exportedTypeName(err)
}

// tlsErrorType names certificate and handshake failures.
func tlsErrorType(err error) string {
	var (
		verify      *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
		roots       x509.SystemRootsError
		record      tls.RecordHeaderError
		alert       tls.AlertError
		ech         *tls.ECHRejectionError
		op          *net.OpError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknownAuth), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &roots):
		return "server_certificate_invalid"
	case errors.As(err, &record), errors.Is(err, http.ErrSchemeMismatch), errors.As(err, &alert), errors.As(err, &ech):
		return "tls_handshake"
	case errors.As(err, &op) && op.Op == "remote error":
		// crypto/tls reports an alert from the peer as this operation.
		return "tls_handshake"
	}
	return ""
}

// errnoTypes names the system errors a connection commonly ends with.
var errnoTypes = [...]struct {
	errno syscall.Errno
	name  string
}{
	{syscall.ECONNREFUSED, "connection_refused"},
	{syscall.ECONNRESET, "connection_reset"},
	{syscall.ECONNABORTED, "connection_aborted"},
	{syscall.EPIPE, "broken_pipe"},
	{syscall.EHOSTUNREACH, "host_unreachable"},
	{syscall.ENETUNREACH, "network_unreachable"},
}

// netErrorType names DNS, socket, timeout and end-of-stream failures.
func netErrorType(err error) string {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		switch {
		case dns.IsNotFound:
			return "dns_not_found"
		case dns.IsTimeout:
			return "dns_timeout"
		}
		return "dns_error"
	}
	for _, e := range errnoTypes {
		if errors.Is(err, e.errno) {
			return e.name
		}
	}
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return "timeout"
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected_eof"
	case errors.Is(err, io.EOF):
		return "eof"
	case errors.Is(err, net.ErrClosed):
		return "connection_closed"
	}
	var op *net.OpError
	if errors.As(err, &op) {
		switch op.Op {
		case "dial":
			return "dial_error"
		case "read":
			return "read_error"
		case "write":
			return "write_error"
		case "proxyconnect":
			return "proxy_connect_error"
		}
		return "network_error"
	}
	return ""
}

// Wrappers that say how an error reached us, not what it is.
var (
	urlErrorType     = reflect.TypeFor[url.Error]()
	syscallErrorType = reflect.TypeFor[os.SyscallError]()
)

// exportedTypeName returns "package/path.Type" for the innermost error in
// err's chain (followed through Unwrap() error) whose type, or the type it
// points to, is named and exported; "" if there is none.
func exportedTypeName(err error) string {
	name := ""
	for e := err; e != nil; e = errors.Unwrap(e) {
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == urlErrorType || t == syscallErrorType || t.PkgPath() == "" {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(t.Name()); unicode.IsUpper(r) {
			name = t.PkgPath() + "." + t.Name()
		}
	}
	return name
}
