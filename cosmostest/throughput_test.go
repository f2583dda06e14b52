package cosmostest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is an account's clock (Options.Now) that moves only when the
// test says.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newThrottledOrders starts an account on a frozen clock whose container
// shop/orders, partitioned on /pk, is created with hdr (header pairs)
// and holds, in each range, an item whose id and partition key are the
// key that spread found for that range. It returns those keys by range.
func newThrottledOrders(t *testing.T, opts Options, hdr ...string) (*Account, *client, *fakeClock, map[string]string) {
	t.Helper()
	clk := newFakeClock()
	opts.Now = clk.now
	a := newTestAccount(t, opts)
	c := newClient(t, a, false)
	require.Equal(t, http.StatusCreated, c.do("POST", a.Endpoint()+"dbs", `{"id":"shop"}`).status)
	r := c.do("POST", a.Endpoint()+"dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`, hdr...)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	// A key in each range, and an item under it: one write per range,
	// within any budget the tests use, which a second refills.
	n := cmp.Or(opts.InitialRanges, defaultRanges)
	ranges := evenRanges(n)
	keys := map[string]string{}
	for i := 0; len(keys) < n; i++ {
		k := "p" + strconv.Itoa(i)
		if rng := ranges.holding(effectivePartitionKey(k)).id; keys[rng] == "" {
			keys[rng] = k
			r := c.do("POST", a.Endpoint()+ordersDocs, `{"id":"`+k+`","pk":"`+k+`"}`, pkHeader(`"`+k+`"`)...)
			require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
			require.Equal(t, rng, r.header.Get(rangeHeader))
		}
	}
	clk.advance(time.Second)
	a.ResetLog()
	return a, c, clk, keys
}

// read reads the item of key k in shop/orders at the endpoint url, with
// header pairs hdr.
func (c *client) read(url, k string, hdr ...string) result {
	c.t.Helper()
	return c.do("GET", url+ordersDocs+"/"+k, "", append(pkHeader(`"`+k+`"`), hdr...)...)
}

// admitted counts the 200s among rs and checks that the others are the
// model's refusals.
func admitted(t *testing.T, rs ...result) int {
	t.Helper()
	n := 0
	for _, r := range rs {
		require.NoError(t, r.err)
		if r.status == http.StatusTooManyRequests {
			assert.Equal(t, "3200", r.sub)
			continue
		}
		assert.Less(t, r.status, 300, "%s", r.body)
		n++
	}
	return n
}

// exhaust reads the item of key k at the endpoint url until a read is
// refused, and returns how many were admitted.
func exhaust(t *testing.T, c *client, url, k string) int {
	t.Helper()
	n := 0
	for admitted(t, c.read(url, k)) == 1 {
		n++
	}
	return n
}

func TestThroughputAdmitsThenRefuses(t *testing.T) {
	// 20 RU/s over two ranges: 10 RU/s each, a budget of 10 RU.
	a, c, clk, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	k, other := keys["0"], keys["1"]

	for i := range 10 {
		r := c.read(a.Endpoint(), k)
		require.Equal(t, http.StatusOK, r.status, "read %d of 10 RU", i+1)
		assert.Equal(t, "1", r.header.Get("x-ms-request-charge"))
	}
	r := c.read(a.Endpoint(), k)
	require.Equal(t, http.StatusTooManyRequests, r.status, "the range's second is spent")
	assert.Equal(t, "3200", r.sub)
	assert.Equal(t, "1", r.header.Get("x-ms-retry-after-ms"), "0 RU left: a millisecond brings 0.01 RU")
	assert.Equal(t, "0", r.header.Get("x-ms-request-charge"))
	assert.Equal(t, "0", r.header.Get(rangeHeader), "the refusal names the range")
	assert.NotEmpty(t, r.header.Get("x-ms-activity-id"))
	assert.Equal(t, http.StatusOK, c.read(a.Endpoint(), other).status, "the other range has its own budget")

	write := c.do("PUT", a.Endpoint()+ordersDocs+"/"+k, `{"id":"`+k+`","pk":"`+k+`","n":2}`, pkHeader(`"`+k+`"`)...)
	require.Equal(t, http.StatusTooManyRequests, write.status)
	assert.Equal(t, 1, a.Commits("shop", "orders", k), "the item's create only: a refused write commits nothing")

	log := a.Log()
	last := log[len(log)-1]
	assert.Equal(t, Entry{Region: Global, Method: "PUT", Path: "/" + ordersDocs + "/" + k, Time: clk.now(),
		Status: 429, SubStatus: 3200, Write: true, Range: "0"}, last, "a refusal is charged nothing")
	assert.Equal(t, 1.0, log[0].Charge)
}

func TestRetryAfterIsExact(t *testing.T) {
	a, c, clk, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	k := keys["1"]
	write := func() result {
		return c.do("POST", a.Endpoint()+ordersDocs, `{"id":"w`+strconv.Itoa(a.Requests(""))+`","pk":"`+k+`"}`, pkHeader(`"`+k+`"`)...)
	}
	for _, r := range []result{write(), write()} {
		require.Equal(t, http.StatusCreated, r.status, "10 RU, then 4.29: both admitted")
	}
	// -1.42 RU at 10 RU/s: 142 ms, and a little more.
	r := write()
	require.Equal(t, http.StatusTooManyRequests, r.status)
	hint, err := strconv.Atoi(r.header.Get("x-ms-retry-after-ms"))
	require.NoError(t, err)
	assert.InDelta(t, 143, hint, 1)

	clk.advance(time.Duration(hint-1) * time.Millisecond)
	early := write()
	require.Equal(t, http.StatusTooManyRequests, early.status, "a millisecond before the hint")
	assert.Equal(t, "1", early.header.Get("x-ms-retry-after-ms"))
	clk.advance(time.Millisecond)
	assert.Equal(t, http.StatusCreated, write().status, "right after the hint")

	r = write()
	require.Equal(t, http.StatusTooManyRequests, r.status, "in debt again")
	hint, err = strconv.Atoi(r.header.Get("x-ms-retry-after-ms"))
	require.NoError(t, err)
	clk.advance(time.Duration(hint) * time.Millisecond)
	assert.Equal(t, http.StatusCreated, write().status, "right after the hint, again")
}

func TestLowPriorityRetryAfterIsExact(t *testing.T) {
	a, c, clk, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	k, low := keys["0"], []string{"x-ms-cosmos-priority-level", "Low"}
	exhaust(t, c, a.Endpoint(), k) // High priority: 0 RU left, or a little less
	r := c.read(a.Endpoint(), k, low...)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	hint, err := strconv.Atoi(r.header.Get("x-ms-retry-after-ms"))
	require.NoError(t, err)
	assert.InDelta(t, 101, hint, 1, "10 RU/s to get above 1 RU, a tenth of the budget")

	clk.advance(time.Duration(hint-1) * time.Millisecond)
	require.Equal(t, http.StatusTooManyRequests, c.read(a.Endpoint(), k, low...).status, "a millisecond before the hint")
	clk.advance(time.Millisecond)
	assert.Equal(t, http.StatusOK, c.read(a.Endpoint(), k, low...).status, "right after the hint")
}

// Concurrent requests to one range, on a clock that stands still: the
// range admits exactly its budget, whatever the interleaving.
func TestConcurrentRequestsSpendTheBudgetExactly(t *testing.T) {
	a, _, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "200")
	var wg sync.WaitGroup
	results := make([][]result, 8)
	for w := range results {
		c := newClient(t, a, false)
		wg.Go(func() {
			for range 20 {
				results[w] = append(results[w], c.read(a.Endpoint(), keys["1"]))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 100, admitted(t, slices.Concat(results...)...), "100 RU/s, 1 RU a read")
}

func TestRetryAfterIsNeverShort(t *testing.T) {
	for _, rate := range []float64{0.3, 1, 7, 10, 33.3, 400, 12345} {
		for _, tokens := range []float64{0, -0.01, -1.42, -5.71, -rate / 3, -rate} {
			for _, level := range []float64{0, lowPriorityReserve * rate} {
				b := bucket{tokens: tokens}
				d := b.until(level, rate)
				assert.GreaterOrEqual(t, d, time.Millisecond)
				assert.Zero(t, d%time.Millisecond)
				assert.Greater(t, tokens+rate*d.Seconds(), level, "rate %v, tokens %v: admitted after %v", rate, tokens, d)
				assert.LessOrEqual(t, tokens+rate*(d-time.Millisecond).Seconds(), level+rate/1000, "not much later than needed")
			}
		}
	}
}

func TestLowPriorityIsThrottledFirst(t *testing.T) {
	// 200 RU/s over two ranges: 100 RU/s a range, Low priority keeps out
	// of its last 10 RU.
	a, c, clk, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "200")
	k := keys["0"]
	low := []string{"x-ms-cosmos-priority-level", "low"}

	for range 90 {
		require.Equal(t, http.StatusOK, c.read(a.Endpoint(), k, low...).status)
	}
	refused := c.read(a.Endpoint(), k, low...)
	require.Equal(t, http.StatusTooManyRequests, refused.status, "10 RU left: Low priority waits")
	assert.Equal(t, "1", refused.header.Get("x-ms-retry-after-ms"))
	for range 10 {
		require.Equal(t, http.StatusOK, c.read(a.Endpoint(), k, "x-ms-cosmos-priority-level", "High").status)
	}
	assert.Equal(t, http.StatusTooManyRequests, c.read(a.Endpoint(), k).status, "High priority spends the range to 0")

	// Contention: every 10 ms (1 RU of refill) two Low reads, then one
	// High read. High is served throughout; Low is shut out.
	var lows, highs []result
	for range 200 {
		clk.advance(10 * time.Millisecond)
		lows = append(lows, c.read(a.Endpoint(), k, low...), c.read(a.Endpoint(), k, low...))
		highs = append(highs, c.read(a.Endpoint(), k))
	}
	assert.Equal(t, len(highs), admitted(t, highs...), "every High read is served")
	assert.Zero(t, admitted(t, lows...), "no Low read is")

	for _, e := range a.Log()[len(a.Log())-3:] {
		assert.Equal(t, e.LowPriority, e.Status == http.StatusTooManyRequests, "%+v", e)
	}
}

func TestWritesChargeEveryRegionReadsOne(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	w, e, n := a.RegionEndpoint("West US 2"), a.RegionEndpoint("East US"), a.RegionEndpoint("North Europe")

	// Range 1: reads spend only the budget of the region that serves them.
	k := keys["1"]
	for range 10 {
		require.Equal(t, http.StatusOK, c.read(e, k).status)
	}
	assert.Equal(t, http.StatusTooManyRequests, c.read(e, k).status, "East US spent its 10 RU")
	assert.Equal(t, http.StatusOK, c.read(n, k).status, "North Europe did not")
	for range 10 {
		require.Equal(t, http.StatusOK, c.read(a.Endpoint(), k).status, "nor did West US 2")
	}
	assert.Equal(t, http.StatusTooManyRequests, c.read(w, k).status, "the global endpoint spent the write region's")
	assert.Equal(t, http.StatusOK, c.read(n, k).status)

	// Range 0: a write runs once, in West US 2, and costs in every region.
	k = keys["0"]
	for i := range 2 {
		r := c.do("POST", w+ordersDocs, `{"id":"x`+strconv.Itoa(i)+`","pk":"`+k+`"}`, pkHeader(`"`+k+`"`)...)
		require.Equal(t, http.StatusCreated, r.status)
	}
	for _, url := range []string{w, e, n} {
		assert.Equal(t, http.StatusTooManyRequests, c.read(url, k).status, "%s: two writes spent 11.42 RU of 10", url)
	}

	spent := map[string]float64{}
	for _, en := range a.Log() {
		if en.Range == "0" && en.Write {
			for _, r := range a.Regions() {
				spent[r] += en.Charge
			}
		}
	}
	assert.Equal(t, map[string]float64{"West US 2": 11.42, "East US": 11.42, "North Europe": 11.42}, spent)
}

func TestMultiWriteAccountChargesEveryRegion(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{MultipleWriteLocations: true}, "x-ms-offer-throughput", "20")
	k := keys["0"]
	tentative := []string{"x-ms-cosmos-allow-tentative-writes", "true"}
	for i := range 2 {
		r := c.do("POST", a.RegionEndpoint("North Europe")+ordersDocs, `{"id":"x`+strconv.Itoa(i)+`","pk":"`+k+`"}`,
			append(pkHeader(`"`+k+`"`), tentative...)...)
		require.Equal(t, http.StatusCreated, r.status)
	}
	assert.Equal(t, http.StatusTooManyRequests, c.read(a.RegionEndpoint("West US 2"), k).status)
	assert.Equal(t, http.StatusTooManyRequests, c.read(a.RegionEndpoint("East US"), k).status)
}

func TestFourRangesOfAHundredRUs(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{InitialRanges: 4}, "x-ms-offer-throughput", "400")
	require.Len(t, keys, 4)
	for _, rng := range []string{"0", "1", "2", "3"} {
		var rs []result
		for range 110 {
			rs = append(rs, c.read(a.Endpoint(), keys[rng]))
		}
		assert.Equal(t, 100, admitted(t, rs...), "range %s: 100 RU/s", rng)
	}
}

func TestCrossPartitionPageNeedsEveryRange(t *testing.T) {
	a, c, clk, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	query := func(hdr ...string) result {
		return c.do("POST", a.Endpoint()+ordersDocs, `{"query":"SELECT * FROM c"}`, append([]string{"x-ms-documentdb-isquery", "true"}, hdr...)...)
	}
	cross := []string{"x-ms-documentdb-query-enablecrosspartition", "true"}
	r := query(cross...)
	require.Equal(t, http.StatusOK, r.status)
	charge, err := strconv.ParseFloat(r.header.Get("x-ms-request-charge"), 64)
	require.NoError(t, err)
	e := a.Log()[0]
	assert.Equal(t, charge, e.Charge, "the page's charge came out of the budgets")
	assert.Empty(t, e.Range)

	exhaust(t, c, a.Endpoint(), keys["1"])
	refused := query(cross...)
	require.Equal(t, http.StatusTooManyRequests, refused.status, "range 1 is spent")
	assert.Empty(t, refused.header.Get(rangeHeader), "a cross-partition page names no range")
	assert.NotEmpty(t, refused.header.Get("x-ms-retry-after-ms"))
	assert.Equal(t, http.StatusOK, query(rangeHeader, "0").status, "range 0 is not")

	hint, err := strconv.Atoi(refused.header.Get("x-ms-retry-after-ms"))
	require.NoError(t, err)
	clk.advance(time.Duration(hint) * time.Millisecond)
	assert.Equal(t, http.StatusOK, query(cross...).status)
}

func TestBatchIsAdmittedWhole(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	k := keys["0"]
	batch := append(slices.Clone(batchHeaders), pkHeader(`"`+k+`"`)...)
	ops := func(i int) string {
		id := strconv.Itoa(i)
		return `[{"operationType":"Create","resourceBody":{"id":"a` + id + `","pk":"` + k + `"}},` +
			`{"operationType":"Create","resourceBody":{"id":"b` + id + `","pk":"` + k + `"}}]`
	}
	ok := c.do("POST", a.Endpoint()+ordersDocs, ops(1), batch...)
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.body)
	assert.Equal(t, "11.42", ok.header.Get("x-ms-request-charge"))
	refused := c.do("POST", a.Endpoint()+ordersDocs, ops(2), batch...)
	require.Equal(t, http.StatusTooManyRequests, refused.status)
	assert.Zero(t, a.Commits("shop", "orders", "a2")+a.Commits("shop", "orders", "b2"))
}

func TestFaultsComeBeforeThroughput(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	k := keys["0"]
	a.Inject(Global, Fault{Status: http.StatusTooManyRequests, SubStatus: 3200, Count: 5,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"7"}}})
	a.Chaos(Global, Chaos{Seed: 1, Rate503: 1, Ops: WriteOps})
	for range 5 {
		r := c.read(a.Endpoint(), k)
		require.Equal(t, http.StatusTooManyRequests, r.status)
		assert.Equal(t, "7", r.header.Get("x-ms-retry-after-ms"), "the fault's own answer")
	}
	r := c.do("POST", a.Endpoint()+ordersDocs, `{"id":"w","pk":"`+k+`"}`, pkHeader(`"`+k+`"`)...)
	assert.Equal(t, http.StatusServiceUnavailable, r.status)
	var rs []result
	for range 12 {
		rs = append(rs, c.read(a.Endpoint(), k))
	}
	assert.Equal(t, 10, admitted(t, rs...), "faulted requests spent nothing")
}

func TestMetadataIsNeverThrottled(t *testing.T) {
	a, c, _, keys := newThrottledOrders(t, Options{}, "x-ms-offer-throughput", "20")
	for _, k := range keys {
		exhaust(t, c, a.Endpoint(), k)
	}
	for _, path := range []string{"", "dbs/shop", ordersPath, ordersPath + "/pkranges", "offers"} {
		r := c.do("GET", a.Endpoint()+path, "")
		assert.Equal(t, http.StatusOK, r.status, "GET /%s", path)
	}
	for _, e := range a.Log() {
		if e.Range == "" {
			assert.Zero(t, e.Charge, "%s %s", e.Method, e.Path)
		}
	}
}
