package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/cosmosrt/cosmosrt/policy"
)

// chunkedSource is a caller's request body: data, chunk bytes a read, then
// end (io.EOF for a body that ends well). With lastWithEnd, the last bytes
// come in the same read as end.
type chunkedSource struct {
	data        []byte
	chunk       int
	end         error
	lastWithEnd bool
	off         int
}

func (s *chunkedSource) Read(p []byte) (int, error) {
	if s.off >= len(s.data) {
		return 0, s.end
	}
	n := copy(p, s.data[s.off:min(len(s.data), s.off+s.chunk)])
	s.off += n
	if s.off == len(s.data) && s.lastWithEnd {
		return n, s.end
	}
	return n, nil
}

func (s *chunkedSource) Close() error { return nil }

// wireAttempt is what a server would have taken of one attempt's body.
type wireAttempt struct {
	got      []byte
	complete bool // the server had a whole request: its ContentLength in bytes, or a chunked body's end
}

// wireServer reads each attempt's body as net/http sends it: the first
// ContentLength bytes (a server takes the request as complete once they
// arrived), then a check for more; or, for an unknown length, to the end.
// Its first answer is 503 and its later ones 201.
type wireServer struct {
	mu       sync.Mutex // guards attempts
	attempts []wireAttempt
}

func (w *wireServer) RoundTrip(req *http.Request) (*http.Response, error) {
	a, err := wireRead(req)
	if req.Body != nil {
		req.Body.Close()
	}
	w.mu.Lock()
	n := len(w.attempts)
	w.attempts = append(w.attempts, a)
	w.mu.Unlock()
	if err != nil {
		return nil, err
	}
	code := http.StatusCreated
	if n == 0 {
		code = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

var errWireLength = errors.New("wire: body length differs from ContentLength")

func wireRead(req *http.Request) (wireAttempt, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return wireAttempt{complete: true}, nil
	}
	if req.ContentLength <= 0 {
		got, err := io.ReadAll(req.Body)
		return wireAttempt{got: got, complete: err == nil}, err
	}
	got, err := io.ReadAll(io.LimitReader(req.Body, req.ContentLength))
	a := wireAttempt{got: got, complete: int64(len(got)) == req.ContentLength}
	if err != nil {
		return a, err
	}
	if !a.complete {
		return a, errWireLength
	}
	extra, err := io.Copy(io.Discard, req.Body)
	if err != nil {
		return a, err
	}
	if extra > 0 {
		return a, errWireLength
	}
	return a, nil
}

var errFuzzSource = errors.New("source failed")

// FuzzReplayBody sends arbitrary bodies, with known, unknown or wrong
// ContentLength, readers that fail at arbitrary points and arbitrary
// buffer bounds, through the retry loop to a server that answers 503 and
// then 201. Every attempt the server could take as complete carries
// exactly the caller's bytes; a body that fails or does not match its
// ContentLength makes the call fail.
func FuzzReplayBody(f *testing.F) {
	// data, declared ContentLength, exact (ContentLength = len(data)), end
	// (0 EOF, 1 ErrUnexpectedEOF, 2 another error), chunk, lastWithEnd,
	// MaxBufferedBody, GetBody.
	f.Add([]byte(`{"id":"1"}`), int64(0), true, uint8(0), uint8(4), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 27), int64(27), false, uint8(1), uint8(12), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 12), int64(27), false, uint8(0), uint8(12), false, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), true, int64(0), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), false, int64(-1), false)
	f.Add(bytes.Repeat([]byte("a"), 15), int64(10), false, uint8(0), uint8(3), false, int64(0), true)
	f.Add(bytes.Repeat([]byte("b"), 100), int64(-1), false, uint8(2), uint8(7), true, int64(10), false)
	f.Add(bytes.Repeat([]byte("b"), 100), int64(100), false, uint8(2), uint8(100), true, int64(10), false)
	f.Add(bytes.Repeat([]byte("c"), 64), int64(-1), false, uint8(0), uint8(64), false, int64(math.MaxInt64), false)
	f.Add([]byte{}, int64(0), true, uint8(0), uint8(1), false, int64(0), false)
	f.Add([]byte("x"), int64(1<<40), false, uint8(0), uint8(1), false, int64(math.MaxInt64), true)

	f.Fuzz(func(t *testing.T, data []byte, declared int64, exact bool, end, chunk uint8, lastWithEnd bool, max int64, getBody bool) {
		length := max64(declared, -1)
		if exact {
			length = int64(len(data))
		}
		endErr := [...]error{io.EOF, io.ErrUnexpectedEOF, errFuzzSource}[end%3]
		source := func() *chunkedSource {
			return &chunkedSource{data: data, chunk: int(chunk%64) + 1, end: endErr, lastWithEnd: lastWithEnd}
		}
		faulty := endErr != io.EOF || (length > 0 && length != int64(len(data)))

		synctest.Test(t, func(t *testing.T) {
			req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, docsURL, source())
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = length
			if getBody {
				req.GetBody = func() (io.ReadCloser, error) { return source(), nil }
			}
			w := &wireServer{}
			resp, err := NewRetry(w, policy.RetryOptions{MaxBufferedBody: max}).RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			if (resp == nil) == (err == nil) {
				t.Fatalf("response %v with error %v", resp, err)
			}
			for i, a := range w.attempts {
				if a.complete && !bytes.Equal(a.got, data) {
					t.Fatalf("attempt %d went out complete with %d bytes, not the caller's %d", i+1, len(a.got), len(data))
				}
				if !faulty && !a.complete {
					t.Fatalf("attempt %d of a sound body went out incomplete", i+1)
				}
			}
			if faulty && err == nil {
				t.Fatalf("a body that fails (%v) or has %d bytes for ContentLength %d was sent: %d", endErr, len(data), length, resp.StatusCode)
			}
			if !faulty && err != nil {
				t.Fatalf("a sound body failed: %v", err)
			}
		})
	})
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
