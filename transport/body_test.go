package transport

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/policy"
)

// slowUplink answers 429 at once, as a server may before it has read the
// request, while it goes on reading the body in the background and closes
// it only when done, as net/http's transport does. The last attempt gets 201.
type slowUplink struct {
	mu      sync.Mutex // guards all below
	reading int        // bodies being read now
	overlap bool       // two bodies were read at once
	got     []string
	n       int
	wg      sync.WaitGroup
}

func (s *slowUplink) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.n++
	last := s.n == 3
	s.reading++
	if s.reading > 1 {
		s.overlap = true
	}
	s.mu.Unlock()
	s.wg.Go(func() {
		var b bytes.Buffer
		chunk := make([]byte, 100)
		for {
			time.Sleep(time.Millisecond)
			n, err := req.Body.Read(chunk)
			b.Write(chunk[:n])
			if err != nil {
				break
			}
		}
		s.mu.Lock()
		s.reading--
		s.got = append(s.got, b.String())
		s.mu.Unlock()
		req.Body.Close()
	})
	if last {
		s.wg.Wait()
		return &http.Response{StatusCode: 201, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
	}
	return &http.Response{StatusCode: 429, Body: http.NoBody, Request: req,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"1"}}}, nil
}

// rewinder is a body whose GetBody rewinds and returns the same reader, as
// some SDKs' requests do.
type rewinder struct{ *strings.Reader }

func (rewinder) Close() error { return nil }

func TestRetryTakesASharedBodyOnlyAfterTheLastAttemptReleasedIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		payload := strings.Repeat("x", 5000)
		body := rewinder{strings.NewReader(payload)}
		req, err := http.NewRequest(http.MethodPost, docsURL, body)
		require.NoError(t, err)
		req.GetBody = func() (io.ReadCloser, error) {
			_, err := body.Seek(0, io.SeekStart)
			return body, err
		}
		up := &slowUplink{}
		resp, err := NewRetry(up, policy.RetryOptions{}).RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 201, resp.StatusCode)

		up.mu.Lock()
		defer up.mu.Unlock()
		assert.False(t, up.overlap, "no attempt read the body while another still did")
		require.Len(t, up.got, 3)
		for i, g := range up.got {
			assert.Equal(t, payload, g, "attempt %d sent the whole body", i)
		}
	})
}
