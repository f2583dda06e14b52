package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
)

// Under seeded faults on reads and writes in every region and three
// manual failovers, a mix of creates, upserts and replaces (some of them
// read-modify-writes guarded by the caller's If-Match) never runs a write
// twice, never acknowledges a write that is not stored, and never tells a
// caller its write failed when it may have run: such a write ends with
// ErrOutcomeUnknown (or a 408), or, with tracking, is settled. With
// tracking, nearly every write the chain can settle is acknowledged.
func TestChaosMixedWritesRunOnceOrSayTheOutcomeIsUnknown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		track bool
		// endsWell says how a call whose write met a doubt may end.
		endsWell func(code int, err error) bool
		// minShare is the least share of the calls the chain can settle
		// (see writeKind.settleable) that must be acknowledged; 0: none.
		minShare float64
	}{
		{"tracking off", false, func(code int, err error) bool {
			return errors.Is(err, ErrOutcomeUnknown) || (err == nil && code == http.StatusRequestTimeout)
		}, 0},
		{"tracking on", true, func(code int, err error) bool {
			return errors.Is(err, ErrOutcomeUnknown) || (err == nil && code/100 == 2)
		}, 0.995},
	} {
		for _, seed := range []int64{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/seed %d", tc.name, seed), func(t *testing.T) {
				calls := runMixedChaos(t, tc.track, seed)
				s := tallyChaos(calls, tc.endsWell)
				t.Logf("%s", s)

				assert.NotZero(t, s.doubts, "the chaos left some writes in doubt")
				assert.Zero(t, s.twice, "no write runs twice")
				assert.Zero(t, s.acknowledgedMissing, "every acknowledged write is stored")
				assert.Zero(t, s.failedCommitted, "no caller is told its write failed when it ran, but through ErrOutcomeUnknown")
				assert.Zero(t, s.doubtsMisreported, "a write in doubt ends as the mode allows")
				assert.Zero(t, s.transportErrors, "no error exposes a net, syscall or io error")
				if tc.minShare > 0 {
					assert.GreaterOrEqual(t, s.settleableShare(), tc.minShare, "of the writes the chain can settle, nearly all are acknowledged")
				}
			})
		}
	}
}

// The workload: each call writes an item of its own, named after the call
// (its id, and the body's "call" property), so the account's commit count
// for that item says how many times the call's write ran. The items a call
// writes over are created before the faults start, so their count starts
// at 1.
const (
	chaosWorkers   = 8
	chaosPerWorker = 150 // 1 200 calls in all
)

// A writeKind is what one call of the workload does.
type writeKind int

const (
	createNew      writeKind = iota // create an item
	upsertNew                       // upsert an item that does not exist
	upsertOver                      // upsert over an existing item, without If-Match
	upsertIfMatch                   // read, modify, upsert with If-Match: the etag read
	replaceOver                     // read, modify, replace without If-Match (the last writer wins)
	replaceIfMatch                  // read, modify, replace with If-Match: the etag read
	writeKinds                      // how many kinds there are
)

// overExisting reports whether the call writes over an item created
// before the run.
func (k writeKind) overExisting() bool { return k >= upsertOver }

// readsFirst reports whether the call reads its item first, as a
// read-modify-write does: the body it writes is the stored item, system
// properties and old _trackingId included, as a map[string]any
// round-trip keeps them.
func (k writeKind) readsFirst() bool { return k >= upsertIfMatch }

// settleable reports whether the chain, tracking writes, can settle every
// doubt of such a call. An upsert over an existing item without If-Match,
// whose body brings no etag, cannot be settled when its read-back finds
// the old version: the chain cannot tell "ours never ran" from "ours ran
// and was overwritten", and says the outcome is unknown. A
// read-modify-write's body brings the etag it was made from, which the
// read-back can match.
func (k writeKind) settleable() bool { return k != upsertOver }

// chaosCall is one call of the workload and what its caller saw.
type chaosCall struct {
	item       string // the item's id and the body's "call"
	kind       writeKind
	readFailed bool // the read of a read-modify-write failed: no write was sent
	code       int  // the write's status; 0 with err
	err        error
	doubt      bool // an attempt of the write failed after it may have reached the account
	commits    int  // how many times the account committed the call's write
}

// runMixedChaos runs the workload from chaosWorkers concurrent callers
// against an account whose every endpoint meets seeded faults on every
// request, with three manual failovers during the run, at a quarter, half
// and three quarters of the calls.
func runMixedChaos(t *testing.T, track bool, seed int64) []chaosCall {
	t.Helper()
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	c := newChain(t, acct, Options{Retry: policy.RetryOptions{TrackWrites: track}})

	calls := make([]chaosCall, 0, chaosWorkers*chaosPerWorker)
	for w := range chaosWorkers {
		for i := range chaosPerWorker {
			calls = append(calls, chaosCall{item: fmt.Sprintf("w%d-%03d", w, i), kind: writeKind((w + i) % int(writeKinds))})
		}
	}
	for _, call := range calls {
		if call.kind.overExisting() {
			// An old version written by a tracked write of the past.
			body := fmt.Sprintf(`{"id":%q,"call":"before the run","_trackingId":"old-%s"}`, call.item, call.item)
			code, _, _, err := sendDoc(t, t.Context(), c, acct, http.MethodPost, "/dbs/d/colls/c/docs", nil, body)
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, code)
		}
	}

	// Every request, the DatabaseAccount and the chain's read-backs
	// included, meets a fault at 16 % (429 with a 10 ms hint 10 %, 503 4 %,
	// dropped 2 %); writes also meet drops after the commit, 6 %: 22 % in all.
	for i, r := range append(acct.Regions(), cosmostest.Global) {
		acct.Chaos(r, cosmostest.Chaos{Seed: seed*10 + int64(i), Rate429: 0.10, Rate503: 0.04, RateDrop: 0.02,
			RateDropAfterCommit: 0.06, RetryAfter: 10 * time.Millisecond})
	}

	regions := acct.Regions()
	quarter := int64(len(calls) / 4)
	var started atomic.Int64
	var wg sync.WaitGroup
	for w := range chaosWorkers {
		wg.Go(func() {
			for i := range chaosPerWorker {
				if n := started.Add(1); n%quarter == 0 && n < 4*quarter {
					assert.NoError(t, acct.Failover(regions[int(n/quarter)%len(regions)]))
				}
				call := &calls[w*chaosPerWorker+i]
				*call = runChaosCall(t, c, acct, *call)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, regions[0], acct.WriteRegion(), "three failovers ran")

	for i := range calls {
		calls[i].commits = acct.Commits("d", "c", calls[i].item)
		if calls[i].kind.overExisting() {
			calls[i].commits-- // its creation before the run
		}
	}
	return calls
}

// runChaosCall makes one call of the workload.
func runChaosCall(t *testing.T, c *http.Client, acct *cosmostest.Account, call chaosCall) chaosCall {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	method, path, header := http.MethodPost, "/dbs/d/colls/c/docs", http.Header{}
	doc := map[string]any{"id": call.item}
	if call.kind.readsFirst() {
		code, stored, etag, err := sendDoc(t, ctx, c, acct, http.MethodGet, path+"/"+call.item, nil, "")
		if err != nil || code != http.StatusOK || json.Unmarshal([]byte(stored), &doc) != nil {
			call.readFailed = true
			return call
		}
		if call.kind == upsertIfMatch || call.kind == replaceIfMatch {
			header.Set("If-Match", etag)
		}
	}
	doc["call"] = call.item
	switch call.kind {
	case upsertNew, upsertOver, upsertIfMatch:
		header.Set("X-Ms-Documentdb-Is-Upsert", "true")
	case replaceOver, replaceIfMatch:
		method, path = http.MethodPut, path+"/"+call.item
	}
	body, _ := json.Marshal(doc) // cannot fail: doc holds what JSON gave
	ctx, diag := WithDiagnostics(ctx)
	call.code, _, _, call.err = sendDoc(t, ctx, c, acct, method, path, header, string(body))
	call.doubt = slices.ContainsFunc(diag.Attempts(), mayHaveRun)
	return call
}

// mayHaveRun reports whether an attempt of a write failed after it may
// have reached the account (no answer, or a 408): a doubt.
func mayHaveRun(a AttemptDiagnostics) bool {
	switch {
	case a.ReadBack:
		return false
	case a.Status == http.StatusRequestTimeout:
		return true
	case a.Status != 0:
		return false
	}
	switch a.ErrorType {
	case "", "circuit_open", "connection_refused", "dial_error":
		return false // not sent
	}
	return true
}

// sendDoc sends a request to the account's global endpoint through c (the
// chain signs it) and returns the answer's status, body and etag.
func sendDoc(t *testing.T, ctx context.Context, c *http.Client, acct *cosmostest.Account, method, path string, header http.Header, body string) (int, string, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(acct.Endpoint(), "/")+path, rd)
	if !assert.NoError(t, err) {
		return 0, "", "", err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header.Get("Etag"), err
}

// chaosTally counts how the calls of one run ended against what the
// account committed.
type chaosTally struct {
	calls, readFailed           int
	acknowledged, unknown       int // writes sent that ended with a 2xx; with ErrOutcomeUnknown
	failedStatus, failedError   int // writes sent that ended with another status; with another error
	unknownCommitted            int
	doubts                      int // writes that met a doubt
	settleable, settleableAcked int

	twice               int // committed more than once
	acknowledgedMissing int // acknowledged, not committed
	failedCommitted     int // told it failed (another status or error), yet committed
	doubtsMisreported   int // met a doubt and ended otherwise than endsWell allows
	transportErrors     int // errors exposing a net, syscall or io error
}

// tallyChaos classifies the calls. endsWell says how a call whose write
// met a doubt may end.
func tallyChaos(calls []chaosCall, endsWell func(code int, err error) bool) chaosTally {
	s := chaosTally{calls: len(calls)}
	for _, c := range calls {
		if c.readFailed {
			s.readFailed++
			continue
		}
		acknowledged := c.err == nil && c.code/100 == 2
		switch {
		case acknowledged:
			s.acknowledged++
			if c.commits == 0 {
				s.acknowledgedMissing++
			}
		case errors.Is(c.err, ErrOutcomeUnknown):
			s.unknown++
			if c.commits > 0 {
				s.unknownCommitted++
			}
		default:
			if c.err != nil {
				s.failedError++
			} else {
				s.failedStatus++
			}
			if c.commits > 0 {
				s.failedCommitted++
			}
		}
		if c.commits > 1 {
			s.twice++
		}
		if c.doubt {
			s.doubts++
			if !endsWell(c.code, c.err) {
				s.doubtsMisreported++
			}
		}
		if c.err != nil && exposesTransportError(c.err) {
			s.transportErrors++
		}
		if c.kind.settleable() {
			s.settleable++
			if acknowledged {
				s.settleableAcked++
			}
		}
	}
	return s
}

func (s chaosTally) String() string {
	sent := s.calls - s.readFailed
	return fmt.Sprintf("%d calls, %d of them read-modify-writes whose read failed (no write sent); of the %d writes: "+
		"%d acknowledged (%.1f %%; %.1f %% of the %d the chain can settle), %d outcome unknown (%d of them committed), %d failed with another status, %d with another error; "+
		"%d met a doubt; %d committed twice, %d acknowledged but missing, %d told failed yet committed, %d doubts misreported, %d transport errors exposed",
		s.calls, s.readFailed, sent,
		s.acknowledged, 100*float64(s.acknowledged)/float64(max(sent, 1)), 100*s.settleableShare(), s.settleable,
		s.unknown, s.unknownCommitted, s.failedStatus, s.failedError,
		s.doubts, s.twice, s.acknowledgedMissing, s.failedCommitted, s.doubtsMisreported, s.transportErrors)
}

func (s chaosTally) settleableShare() float64 {
	return float64(s.settleableAcked) / float64(max(s.settleable, 1))
}

// exposesTransportError reports whether err lets errors.Is or errors.As
// find a net, syscall or io error, as the chain's errors must not.
func exposesTransportError(err error) bool {
	var op *net.OpError
	var errno syscall.Errno
	return errors.As(err, &op) || errors.As(err, &errno) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
