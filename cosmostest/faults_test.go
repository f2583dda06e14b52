package cosmostest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultAnswersWithStatusSubStatusAndHeaders(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	west := a.RegionEndpoint("West US 2")
	a.Inject("West US 2", Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200, Count: 1,
		Header: http.Header{"x-ms-retry-after-ms": {"7"}},
	})

	r := c.do("POST", west+docsPath, docBody("1"))
	assert.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "3200", r.sub)
	assert.Equal(t, "7", r.header.Get("x-ms-retry-after-ms"))
	assert.NotEmpty(t, r.header.Get("x-ms-activity-id"))
	assert.Equal(t, "TooManyRequests", r.json(t)["code"])
	assert.Zero(t, a.Commits("db", "coll", "1"), "a faulted write is never committed")

	assert.Equal(t, http.StatusCreated, c.do("POST", west+docsPath, docBody("1")).status, "Count 1 answers once")
	assert.Equal(t, 1, a.Commits("db", "coll", "1"))
}

func TestFaultCountAndQueueOrder(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	a.Inject(Global, Fault{Status: 503, Count: 2})
	a.Inject(Global, Fault{Status: 449, Count: 1})
	a.Inject("East US", Fault{Status: 500}) // another endpoint: no effect here
	var got []int
	for range 4 {
		got = append(got, c.do("GET", a.Endpoint()+docsPath, "").status)
	}
	assert.Equal(t, []int{503, 503, 449, 200}, got)

	a.Inject(Global, Fault{Status: 503}) // Count 0: until cleared
	for range 5 {
		assert.Equal(t, 503, c.do("GET", a.Endpoint()+docsPath, "").status)
	}
	a.ClearFaults(Global)
	assert.Equal(t, 200, c.do("GET", a.Endpoint()+docsPath, "").status)
	assert.Equal(t, 500, c.do("GET", a.RegionEndpoint("East US")+docsPath, "").status)
}

func TestFaultOps(t *testing.T) {
	tests := []struct {
		ops                 Ops
		account, read, wrte bool // faulted?
	}{
		{AllOps, true, true, true},
		{ReadOps, false, true, false},
		{WriteOps, false, false, true},
		{AccountOps, true, false, false},
	}
	for _, tt := range tests {
		a := newTestAccount(t, Options{})
		c := newClient(t, a, false)
		a.Inject(Global, Fault{Status: 503, Ops: tt.ops})
		faulted := func(r result) bool { return r.status == 503 }
		assert.Equal(t, tt.account, faulted(c.do("GET", a.Endpoint(), "")), "ops %d account", tt.ops)
		assert.Equal(t, tt.read, faulted(c.do("GET", a.Endpoint()+docsPath+"/1", "")), "ops %d read", tt.ops)
		assert.Equal(t, tt.read, faulted(c.do("POST", a.Endpoint()+docsPath, "{}", "x-ms-documentdb-isquery", "true")), "ops %d query", tt.ops)
		assert.Equal(t, tt.wrte, faulted(c.do("POST", a.Endpoint()+docsPath, docBody("1"))), "ops %d create", tt.ops)
		assert.Equal(t, tt.wrte, faulted(c.do("DELETE", a.Endpoint()+docsPath+"/1", "")), "ops %d delete", tt.ops)
	}
}

func TestFaultDelayDelaysTheRealAnswer(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	const d = 20 * time.Millisecond
	a.Inject(Global, Fault{Delay: d, Count: 1})
	start := time.Now()
	r := c.do("POST", a.Endpoint()+docsPath, docBody("1"))
	assert.GreaterOrEqual(t, time.Since(start), d)
	assert.Equal(t, http.StatusCreated, r.status)
	assert.Equal(t, 1, a.Commits("db", "coll", "1"))

	a.Inject(Global, Fault{Delay: time.Millisecond, Status: 503, Count: 1})
	assert.Equal(t, 503, c.do("GET", a.Endpoint(), "").status)
}

func TestFaultDropClosesTheConnection(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, true) // a fresh connection: no transparent resend
	a.Inject("West US 2", Fault{Drop: true, Status: 503, Count: 2})

	assert.Error(t, c.do("GET", a.RegionEndpoint("West US 2")+docsPath, "").err)
	assert.Error(t, c.do("POST", a.RegionEndpoint("West US 2")+docsPath, docBody("1")).err)
	assert.Zero(t, a.Commits("db", "coll", "1"))
	log := a.Log()
	require.Len(t, log, 2)
	for _, e := range log {
		assert.True(t, e.Dropped)
		assert.Zero(t, e.Status)
	}
	assert.Equal(t, http.StatusCreated, c.do("POST", a.RegionEndpoint("West US 2")+docsPath, docBody("1")).status)
}

func TestDelayEndsWhenTheClientGoesAway(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	ctx, cancel := context.WithCancel(context.Background())
	a.setTestHookDelay(func(time.Duration) { cancel() }) // the client gives up as soon as the wait begins
	a.Inject(Global, Fault{Delay: time.Hour, Count: 1})

	req, err := http.NewRequestWithContext(ctx, "POST", a.Endpoint()+docsPath, nil)
	require.NoError(t, err)
	require.NoError(t, a.Sign(req))
	assert.ErrorIs(t, c.send(req).err, context.Canceled)
	a.Close() // waits for the handler
	assert.Zero(t, a.Commits("db", "coll", "1"))
	require.Len(t, a.Log(), 1)
	assert.True(t, a.Log()[0].Dropped)
}

func TestHoldKeepsTheAnswersUntilTheTestReleasesThem(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	release := make(chan struct{})
	a.Inject(Global, Fault{Hold: release, Count: 2, Ops: ReadOps})
	answers := make(chan result, 2)
	for range 2 {
		go func() { answers <- c.do("GET", a.Endpoint()+docsPath+"/1", "") }()
	}
	require.Eventually(t, func() bool { return a.InFlight() == 2 }, 5*time.Second, time.Millisecond, "both reads arrive")
	assert.Empty(t, a.Log(), "held: nothing answered yet")
	assert.Empty(t, answers)

	close(release)
	for range 2 {
		assert.Equal(t, http.StatusNotFound, (<-answers).status, "the account's own answer, once released")
	}
	assert.Len(t, a.Log(), 2)
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+docsPath+"/1", "").status, "Count 2: the third read is not held")
}

func TestHoldEndsWhenTheClientGoesAway(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	a.Inject(Global, Fault{Hold: make(chan struct{}), Count: 1})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", a.Endpoint()+docsPath+"/1", nil)
	require.NoError(t, err)
	require.NoError(t, a.Sign(req))
	done := make(chan result)
	go func() { done <- c.send(req) }()
	require.Eventually(t, func() bool { return a.InFlight() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, (<-done).err, context.Canceled)
	a.Close() // waits for the handler
	require.Len(t, a.Log(), 1)
	assert.True(t, a.Log()[0].Dropped)
}

func TestCloseEndsDelays(t *testing.T) {
	a := NewAccount(Options{})
	c := newClient(t, a, false)
	waiting := make(chan struct{})
	a.setTestHookDelay(func(time.Duration) { close(waiting) })
	a.Inject(Global, Fault{Delay: time.Hour})
	done := make(chan result)
	go func() { done <- c.do("GET", a.Endpoint(), "") }()
	<-waiting
	a.Close()
	assert.Error(t, (<-done).err)
}

// chaosStatuses sends n reads and n writes, alternating, to an account
// with chaos c at the global endpoint, and returns the logged statuses.
func chaosStatuses(t *testing.T, c Chaos, n int) []int {
	a := newTestAccount(t, Options{})
	cl := newClient(t, a, true)
	a.Chaos(Global, c)
	for range n {
		cl.do("GET", a.Endpoint()+docsPath+"/x", "")
		cl.do("POST", a.Endpoint()+docsPath, docBody("x"), "x-ms-documentdb-is-upsert", "true")
	}
	var got []int
	for _, e := range a.Log() {
		got = append(got, e.Status)
	}
	return got
}

func TestChaosIsDeterministicForASeed(t *testing.T) {
	c := Chaos{Seed: 42, Rate429: 0.1, Rate449: 0.1, Rate503: 0.1, Rate500: 0.1, RateDrop: 0.1}
	first := chaosStatuses(t, c, 60)
	assert.Equal(t, first, chaosStatuses(t, c, 60))
	c.Seed = 43
	assert.NotEqual(t, first, chaosStatuses(t, c, 60))

	seen := map[int]bool{}
	for _, s := range first {
		seen[s] = true
	}
	for _, s := range []int{0, 200, 429, 449, 503, 500} {
		assert.True(t, seen[s], "status %d appears", s)
	}
}

func TestChaosRates(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	a.Chaos(Global, Chaos{Rate449: 1})
	assert.Equal(t, 404, c.do("GET", a.Endpoint()+docsPath+"/1", "").status, "449 spares reads")
	assert.Equal(t, 449, c.do("POST", a.Endpoint()+docsPath, docBody("1")).status)

	a.Chaos(Global, Chaos{Rate429: 1})
	r := c.do("GET", a.Endpoint(), "")
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "3200", r.sub)
	assert.Equal(t, "10", r.header.Get("x-ms-retry-after-ms"))

	a.Chaos(Global, Chaos{Rate429: 1, RetryAfter: -1, Ops: WriteOps})
	assert.Equal(t, 200, c.do("GET", a.Endpoint(), "").status)
	r = c.do("POST", a.Endpoint()+docsPath, docBody("1"))
	assert.Equal(t, 429, r.status)
	assert.Empty(t, r.header.Get("x-ms-retry-after-ms"))

	a.Inject(Global, Fault{Status: 500, Count: 1})
	assert.Equal(t, 500, c.do("POST", a.Endpoint()+docsPath, docBody("1")).status, "scripted faults come first")

	a.Chaos(Global, Chaos{Rate503: 1})
	a.ClearFaults(Global)
	assert.Equal(t, 201, c.do("POST", a.Endpoint()+docsPath, docBody("1")).status, "ClearFaults ends chaos")
	a.Chaos(Global, Chaos{Rate503: 1})
	a.Chaos(Global, Chaos{})
	assert.Equal(t, 200, c.do("GET", a.Endpoint(), "").status, "a zero Chaos is off")
}

// setTestHookDelay makes f run as each Delay wait begins, with the delay.
func (a *Account) setTestHookDelay(f func(time.Duration)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.testHookDelay = f
}

func TestFaultsAtUnknownEndpointPanic(t *testing.T) {
	a := newTestAccount(t, Options{})
	for _, f := range []func(){
		func() { a.Inject("Mars", Fault{}) },
		func() { a.Chaos("Mars", Chaos{}) },
		func() { a.ClearFaults("Mars") },
	} {
		assert.Contains(t, panicMessage(f), `cosmostest: no endpoint named "Mars"`)
	}
}

func TestDropAfterCommitCommitsButNeverAnswers(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, true) // a fresh connection: no transparent resend
	west, east := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US")
	a.Inject("West US 2", Fault{DropAfterCommit: true, Ops: WriteOps, Count: 2})
	a.Inject("East US", Fault{DropAfterCommit: true, Ops: WriteOps, Count: 1})

	assert.Error(t, c.do("POST", west+docsPath, docBody("1")).err, "the client gets no answer")
	assert.Equal(t, 1, a.Commits("db", "coll", "1"), "but the write is in the store")
	_, ok := a.Document("db", "coll", "1")
	assert.True(t, ok)
	assert.Error(t, c.do("POST", west+docsPath, docBody("1")).err)
	assert.Equal(t, 1, a.Commits("db", "coll", "1"), "a 409 dropped after the fact commits nothing")
	assert.Error(t, c.do("PUT", east+docsPath+"/1", docBody("1")).err)
	assert.Equal(t, 1, a.Commits("db", "coll", "1"), "nor does a refused write")
	assert.Equal(t, http.StatusConflict, c.do("POST", west+docsPath, docBody("1")).status, "the retry finds the first write")

	var got []Entry
	for _, e := range a.Log() {
		got = append(got, Entry{Region: e.Region, Status: e.Status, Dropped: e.Dropped, Committed: e.Committed})
	}
	assert.Equal(t, []Entry{
		{Region: "West US 2", Dropped: true, Committed: true},
		{Region: "West US 2", Dropped: true},
		{Region: "East US", Dropped: true},
		{Region: "West US 2", Status: http.StatusConflict},
	}, got)
}

func TestChaosDraw(t *testing.T) {
	throttle := Fault{Status: 429, SubStatus: 3200, Header: http.Header{"X-Ms-Retry-After-Ms": {"10"}}}
	for _, tt := range []struct {
		name  string
		c     Chaos
		u     float64
		write bool
		want  Fault
		ok    bool
	}{
		{"429", Chaos{Rate429: 0.5}, 0.4, false, throttle, true},
		{"past every band", Chaos{Rate429: 0.5}, 0.6, false, Fault{}, false},
		{"slow, default delay", Chaos{RateSlow: 1}, 0.5, false, Fault{Delay: 100 * time.Millisecond}, true},
		{"slow, own delay", Chaos{RateSlow: 1, SlowDelay: time.Second}, 0.5, true, Fault{Delay: time.Second}, true},
		{"slow off", Chaos{RateSlow: 1, SlowDelay: -1}, 0.5, true, Fault{}, false},
		{"slow after the older bands", Chaos{RateDrop: 0.5, RateSlow: 0.5}, 0.4, false, Fault{Drop: true}, true},
		{"drop after commit", Chaos{RateDropAfterCommit: 1}, 0.5, true, Fault{DropAfterCommit: true}, true},
		{"drop after commit spares reads", Chaos{RateDropAfterCommit: 1}, 0.5, false, Fault{}, false},
		{"449 spares reads", Chaos{Rate449: 1}, 0.5, false, Fault{}, false},
	} {
		f, ok := tt.c.draw(tt.u, tt.write)
		assert.Equal(t, tt.ok, ok, tt.name)
		assert.Equal(t, tt.want, f, tt.name)
	}
	assert.True(t, Chaos{RateSlow: 1, SlowDelay: -1}.off())
	assert.False(t, Chaos{RateDropAfterCommit: 0.1}.off())
}

func TestChaosSlowsASeededShareOfRequests(t *testing.T) {
	slowed := func(seed int64) []bool {
		a := newTestAccount(t, Options{})
		c := newClient(t, a, false)
		var mu sync.Mutex // guards delays
		var delays []time.Duration
		count := func() int {
			mu.Lock()
			defer mu.Unlock()
			return len(delays)
		}
		a.setTestHookDelay(func(d time.Duration) { // runs in the handler, before it answers
			mu.Lock()
			defer mu.Unlock()
			delays = append(delays, d)
		})
		east := a.RegionEndpoint("East US")
		a.Chaos("East US", Chaos{Seed: seed, RateSlow: 0.5, SlowDelay: time.Microsecond, Ops: ReadOps})
		var out []bool
		for range 20 {
			before := count()
			require.Equal(t, http.StatusNotFound, c.do("GET", east+docsPath+"/1", "").status, "the real answer, late")
			out = append(out, count() > before)
		}
		before := count()
		for range 5 {
			assert.Equal(t, http.StatusForbidden, c.do("POST", east+docsPath, docBody("1")).status)
		}
		assert.Equal(t, before, count(), "writes are not slowed (Ops)")
		mu.Lock()
		defer mu.Unlock()
		for _, d := range delays {
			assert.Equal(t, time.Microsecond, d)
		}
		return out
	}
	first := slowed(7)
	assert.Equal(t, first, slowed(7), "the same requests for the same seed")
	assert.Contains(t, first, true)
	assert.Contains(t, first, false)
}

func TestChaosSlowWaitEndsWhenTheClientGoesAway(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, false)
	ctx, cancel := context.WithCancel(context.Background())
	a.setTestHookDelay(func(time.Duration) { cancel() })
	a.Chaos(Global, Chaos{RateSlow: 1, SlowDelay: time.Hour})

	req, err := http.NewRequestWithContext(ctx, "GET", a.Endpoint()+docsPath, nil)
	require.NoError(t, err)
	require.NoError(t, a.Sign(req))
	assert.ErrorIs(t, c.send(req).err, context.Canceled)
	a.Close() // waits for the handler
	require.Len(t, a.Log(), 1)
	assert.True(t, a.Log()[0].Dropped)
}

func TestChaosDropAfterCommit(t *testing.T) {
	a := newTestAccount(t, Options{})
	c := newClient(t, a, true)
	a.Chaos(Global, Chaos{RateDropAfterCommit: 1})
	assert.Equal(t, http.StatusNotFound, c.do("GET", a.Endpoint()+docsPath+"/1", "").status, "reads are answered")
	assert.Error(t, c.do("POST", a.Endpoint()+docsPath, docBody("1")).err)
	assert.Equal(t, 1, a.Commits("db", "coll", "1"))
}
