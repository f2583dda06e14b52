package wire

import (
	"mime"
	"net/http"
	"strings"
	"testing"
)

// FuzzDescribeWrite checks Describe's Write on arbitrary methods and headers: reads stay
// reads whatever the headers say, only POST can be a query, and a POST
// declared a query by either header is a read.
func FuzzDescribeWrite(f *testing.F) {
	for _, s := range []struct{ method, isQuery, contentType string }{
		{"GET", "", ""}, {"", "", ""}, {"HEAD", "", ""}, {"OPTIONS", "", ""},
		{"POST", "", "application/json"},
		{"POST", "True", "application/query+json"},
		{"POST", "", "Application/Query+JSON; charset=utf-8"},
		{"POST", " true ", ""}, {"POST", "false", "application/json"},
		{"PUT", "true", "application/query+json"}, {"DELETE", "", ""},
		{"PATCH", "true", ""}, {"get", "", ""}, {"post", "true", ""},
		{"POST", "1", ""}, {"POST", "yes", ""}, {"POST", "tru\x00e", ""},
		{"POST", "", "application/query+json;;;"}, {"POST", "", ";application/query+json"},
		{"POST", "", "application/query+jſon"}, {"POST", "", "text/plain, application/query+json"},
		{"GET\r\nX: y", "", ""}, {"POST ", "true", ""}, {"\xff", "\xff", "\xff"},
	} {
		f.Add(s.method, s.isQuery, s.contentType)
	}
	f.Fuzz(func(t *testing.T, method, isQuery, contentType string) {
		h := http.Header{}
		if isQuery != "" {
			h[HeaderIsQuery] = []string{isQuery}
		}
		if contentType != "" {
			h["Content-Type"] = []string{contentType}
		}
		got := Describe(&http.Request{Method: method, Header: h}).Write
		bare := Describe(&http.Request{Method: method, Header: http.Header{}}).Write
		switch method {
		case "", http.MethodGet, http.MethodHead, http.MethodOptions:
			if got || bare {
				t.Fatalf("Write of (%q, %q, %q) = true for a read method", method, isQuery, contentType)
			}
			return
		case http.MethodPost:
			if !bare {
				t.Fatal("a POST without query headers is a read")
			}
		default:
			if !got {
				t.Fatalf("Write of (%q, %q, %q) = false for a method that is not POST or a read", method, isQuery, contentType)
			}
			return
		}
		// A POST.
		if strings.EqualFold(strings.TrimSpace(isQuery), "true") && got {
			t.Fatalf("POST with %s %q is a write", HeaderIsQuery, isQuery)
		}
		if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "application/query+json" && got {
			t.Fatalf("POST with Content-Type %q is a write", contentType)
		}
		if !got && !strings.EqualFold(strings.TrimSpace(isQuery), "true") &&
			!strings.Contains(strings.ToLower(contentType), "query") {
			t.Fatalf("POST with %q, %q is a read but declares no query", isQuery, contentType)
		}
	})
}
