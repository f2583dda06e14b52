package transport

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// attempt is what a fake endpoint saw of one request.
type attempt struct {
	at     time.Time
	method string
	host   string
	path   string
	body   string
	length int64 // ContentLength
	header http.Header
}

// answer is a fake endpoint's reply: a response (status, headers, body) or an error.
type answer struct {
	status int
	header map[string]string
	body   string
	err    error
}

// fake is a RoundTripper that answers from a script, one answer per
// request, repeating the last one when the script runs out. It records
// every request and every response body it handed out.
type fake struct {
	mu       sync.Mutex // guards all below
	script   []answer
	attempts []attempt
	bodies   []*trackedBody
	answer   func(req *http.Request, n int) answer // overrides script when set
}

func newFake(script ...answer) *fake { return &fake{script: script} }

func (f *fake) RoundTrip(req *http.Request) (*http.Response, error) {
	var body string
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		body = string(b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(f.attempts)
	f.attempts = append(f.attempts, attempt{
		at: time.Now(), method: req.Method, host: req.URL.Host, path: req.URL.Path, body: body, length: req.ContentLength, header: req.Header.Clone(),
	})
	var a answer
	switch {
	case f.answer != nil:
		a = f.answer(req, n)
	case n < len(f.script):
		a = f.script[n]
	default:
		a = f.script[len(f.script)-1]
	}
	if a.err != nil {
		return nil, a.err
	}
	tb := &trackedBody{r: strings.NewReader(a.body)}
	f.bodies = append(f.bodies, tb)
	resp := &http.Response{
		StatusCode: a.status,
		Status:     strconv.Itoa(a.status) + " " + http.StatusText(a.status),
		Header:     make(http.Header),
		Body:       tb,
		Request:    req,
	}
	for k, v := range a.header {
		resp.Header.Set(k, v)
	}
	return resp, nil
}

func (f *fake) seen() []attempt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]attempt(nil), f.attempts...)
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.attempts)
}

// trackedBody records whether it was read to the end and closed.
type trackedBody struct {
	mu     sync.Mutex
	r      *strings.Reader
	closed bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Read(p)
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

func (b *trackedBody) state() (drained, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Len() == 0, b.closed
}

func status(code int, kv ...string) answer {
	a := answer{status: code, header: map[string]string{}, body: `{"code":"` + http.StatusText(code) + `"}`}
	for i := 0; i+1 < len(kv); i += 2 {
		a.header[kv[i]] = kv[i+1]
	}
	return a
}

// countConns makes srv, not yet started, count the connections it accepts.
func countConns(srv *httptest.Server) (conns func() int) {
	var mu sync.Mutex
	n := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			n++
			mu.Unlock()
		}
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return n
	}
}
