package transport

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrInvalidRequest is wrapped by the error of a request the chain refuses
// before sending anything: no URL, no host, a scheme other than http or
// https, a malformed method or header, a ContentLength without a body.
// Such a request is not retried and costs the retry budget nothing.
var ErrInvalidRequest = errors.New("transport: invalid request")

// checkRequest finds what net/http would refuse in req before sending it,
// so that the chain refuses it at once instead of retrying it. Messages
// name a bad header but never show its value, which may be a secret.
func checkRequest(req *http.Request) error {
	switch {
	case req == nil:
		return fmt.Errorf("%w: nil request", ErrInvalidRequest)
	case req.URL == nil:
		return fmt.Errorf("%w: nil URL", ErrInvalidRequest)
	case req.Header == nil:
		return fmt.Errorf("%w: nil Header", ErrInvalidRequest)
	case req.URL.Scheme != "http" && req.URL.Scheme != "https":
		return fmt.Errorf("%w: unsupported scheme %q", ErrInvalidRequest, cut(req.URL.Scheme))
	case req.URL.Host == "":
		return fmt.Errorf("%w: no host in the URL", ErrInvalidRequest)
	case req.Method != "" && !isToken(req.Method):
		return fmt.Errorf("%w: invalid method %q", ErrInvalidRequest, cut(req.Method))
	case req.ContentLength > 0 && (req.Body == nil || req.Body == http.NoBody):
		return fmt.Errorf("%w: ContentLength %d with no body", ErrInvalidRequest, req.ContentLength)
	}
	for name, values := range req.Header {
		if !isToken(name) {
			return fmt.Errorf("%w: invalid header name %q", ErrInvalidRequest, cut(name))
		}
		for _, v := range values {
			if !validHeaderValue(v) {
				return fmt.Errorf("%w: invalid value in header %s", ErrInvalidRequest, name)
			}
		}
	}
	return nil
}

// closeRequestBody closes req's body, as a RoundTripper must even when it
// refuses the request.
func closeRequestBody(req *http.Request) {
	if req != nil && req.Body != nil {
		req.Body.Close()
	}
}

// isToken reports whether s is an RFC 9110 token, as header names and
// methods must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || c == 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v may be sent as a header value: no
// control characters but horizontal tab (so no line breaks).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// cut shortens caller input quoted in an error.
func cut(s string) string {
	const maxQuoted = 32
	if len(s) > maxQuoted {
		return s[:maxQuoted] + "…"
	}
	return s
}
