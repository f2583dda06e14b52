package transport

import (
	"context"
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

// regionalBase answers in memory for an account of three read regions,
// each after its own latency (on the bubble's clock under synctest), with
// its own status; it records when each region was asked and whether the
// attempt was cancelled.
type regionalBase struct {
	latency map[string]time.Duration // by host
	status  map[string]int           // by host; 0: 200

	mu      sync.Mutex
	started map[string]time.Time
	ended   map[string]string // "answered" or "cancelled"
}

const threeRegionDoc = `{"writableLocations":[{"name":"West US","databaseAccountEndpoint":"http://acct-westus.documents.azure.com/"}],` +
	`"readableLocations":[{"name":"West US","databaseAccountEndpoint":"http://acct-westus.documents.azure.com/"},` +
	`{"name":"East US","databaseAccountEndpoint":"http://acct-eastus.documents.azure.com/"},` +
	`{"name":"North Europe","databaseAccountEndpoint":"http://acct-northeurope.documents.azure.com/"}]}`

func (b *regionalBase) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	body := `{"id":"1","region":"` + host + `"}`
	if strings.Trim(req.URL.Path, "/") == "" {
		body = threeRegionDoc
	} else {
		b.mu.Lock()
		b.started[host] = time.Now()
		b.mu.Unlock()
		select {
		case <-time.After(b.latency[host]):
		case <-req.Context().Done():
			b.mu.Lock()
			b.ended[host] = "cancelled"
			b.mu.Unlock()
			return nil, req.Context().Err()
		}
		b.mu.Lock()
		b.ended[host] = "answered"
		b.mu.Unlock()
	}
	b.mu.Lock()
	status := b.status[host]
	b.mu.Unlock()
	if status == 0 {
		status = http.StatusOK
	}
	return &http.Response{
		StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
	}, nil
}

const (
	westUS      = "acct-westus.documents.azure.com"
	eastUS      = "acct-eastus.documents.azure.com"
	northEurope = "acct-northeurope.documents.azure.com"
)

// TestHedgeTiming checks on a fake clock when each arm of a hedged read
// starts, which answer the caller gets and when: arms start at Threshold
// and Threshold+Step, an arm that answers 503 starts the next at once, the
// first final answer wins at the moment it arrives, and the arms still
// running are cancelled before the call returns.
func TestHedgeTiming(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name    string
		latency map[string]time.Duration
		status  map[string]int
		took    time.Duration
		winner  string
		started map[string]time.Duration // when each region was asked; absent: never
		ended   map[string]string
	}{
		{
			name:    "the preferred region answers before the threshold",
			latency: map[string]time.Duration{westUS: 10 * ms, eastUS: 10 * ms, northEurope: 10 * ms},
			took:    10 * ms, winner: westUS,
			started: map[string]time.Duration{westUS: 0},
			ended:   map[string]string{westUS: "answered"},
		},
		{
			name:    "the first hedge wins, the slow region is cancelled",
			latency: map[string]time.Duration{westUS: time.Second, eastUS: 10 * ms, northEurope: 10 * ms},
			took:    30 * ms, winner: eastUS,
			started: map[string]time.Duration{westUS: 0, eastUS: 20 * ms},
			ended:   map[string]string{westUS: "cancelled", eastUS: "answered"},
		},
		{
			name:    "both hedges go, the second wins",
			latency: map[string]time.Duration{westUS: time.Second, eastUS: time.Second, northEurope: 5 * ms},
			took:    45 * ms, winner: northEurope,
			started: map[string]time.Duration{westUS: 0, eastUS: 20 * ms, northEurope: 40 * ms},
			ended:   map[string]string{westUS: "cancelled", eastUS: "cancelled", northEurope: "answered"},
		},
		{
			name:    "a 503 starts the next region at once",
			latency: map[string]time.Duration{westUS: 5 * ms, eastUS: 10 * ms, northEurope: 10 * ms},
			status:  map[string]int{westUS: http.StatusServiceUnavailable},
			took:    15 * ms, winner: eastUS,
			started: map[string]time.Duration{westUS: 0, eastUS: 5 * ms},
			ended:   map[string]string{westUS: "answered", eastUS: "answered"},
		},
		{
			name:    "no final answer: the last one comes back",
			latency: map[string]time.Duration{westUS: 5 * ms, eastUS: 5 * ms, northEurope: 5 * ms},
			status:  map[string]int{westUS: 503, eastUS: 503, northEurope: 503},
			took:    15 * ms, winner: northEurope,
			started: map[string]time.Duration{westUS: 0, eastUS: 5 * ms, northEurope: 10 * ms},
			ended:   map[string]string{westUS: "answered", eastUS: "answered", northEurope: "answered"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := &regionalBase{latency: tt.latency, started: map[string]time.Time{}, ended: map[string]string{}}
				hedge := policy.HedgeOptions{Threshold: 20 * ms, Step: 20 * ms, Ratio: -1}
				rt, err := New(Options{
					Endpoint: "http://acct.documents.azure.com/", Key: "c2VjcmV0", Base: b, Hedge: hedge,
					PreferredRegions: []string{"West US", "East US", "North Europe"}, RefreshInterval: -1,
				})
				require.NoError(t, err)
				defer rt.Close()
				get := func() (*http.Response, error) {
					req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://acct.documents.azure.com/dbs/d/colls/c/docs/1", nil)
					require.NoError(t, err)
					req.Header.Set("Authorization", "caller-signed")
					return rt.RoundTrip(req)
				}
				resp, err := get() // loads the account
				require.NoError(t, err)
				resp.Body.Close()
				synctest.Wait()
				b.mu.Lock()
				clear(b.started)
				clear(b.ended)
				b.status = tt.status // the statuses apply from here: the first read only loads the account
				b.mu.Unlock()

				start := time.Now()
				resp, err = get()
				took := time.Since(start)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err, "the answer returned is readable")
				resp.Body.Close()
				synctest.Wait() // nothing the call started is still running

				assert.Equal(t, tt.took, took)
				assert.Contains(t, string(body), tt.winner)
				b.mu.Lock()
				defer b.mu.Unlock()
				started := map[string]time.Duration{}
				for host, at := range b.started {
					started[host] = at.Sub(start)
				}
				assert.Equal(t, tt.started, started, "when each region was asked")
				assert.Equal(t, tt.ended, b.ended, "how each arm ended")
			})
		})
	}
}
