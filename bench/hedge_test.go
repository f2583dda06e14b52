package bench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// hedgeChart names the SVG file BenchmarkHedgedReads writes its percentile
// chart to; empty writes none.
var hedgeChart = flag.String("hedgechart", "", "write BenchmarkHedgedReads' latency chart (SVG) to this file")

// The hedged-read runs: point reads of one document from a cosmostest
// account whose preferred read region, East US, is healthy, slow on a tenth
// of its reads, or slow on every read.
const (
	hedgeWorkers   = 4                      // reads in flight at once
	hedgeThreshold = 50 * time.Millisecond  // cosmosrt-hedge's Hedge.Threshold
	brownoutShare  = 0.1                    // brownout10: the share of slow reads …
	brownoutDelay  = 500 * time.Millisecond // … and how slow
	regionDelay    = 300 * time.Millisecond // region300: every read this slow
	brownoutSeed   = 1                      // brownout10's Chaos.Seed
	slowRegion     = "East US"
	benchDB        = "bench" // docPath's database …
	benchColl      = "items" // … and collection, implicit in cosmostest
)

// readRegions is every reader's PreferredRegions: East US, then North
// Europe. West US 2, the write region, serves no reads.
var readRegions = []string{slowRegion, "North Europe"}

// A hedgeScenario shapes the account's regions after the readers' first
// read.
type hedgeScenario struct {
	name, title string
	apply       func(*cosmostest.Account)
}

var hedgeScenarios = []hedgeScenario{
	{"healthy", "healthy", func(*cosmostest.Account) {}},
	{"brownout10", "East US: 10 % of reads +500 ms", brownout},
	{"region300", "East US: every read +300 ms", regionSlow},
}

// brownout delays a seeded tenth of East US's reads by 500 ms.
func brownout(a *cosmostest.Account) {
	a.Chaos(slowRegion, cosmostest.Chaos{
		Seed: brownoutSeed, RateSlow: brownoutShare, SlowDelay: brownoutDelay, Ops: cosmostest.ReadOps,
	})
}

// regionSlow delays every East US read by 300 ms.
func regionSlow(a *cosmostest.Account) {
	a.Inject(slowRegion, cosmostest.Fault{Delay: regionDelay, Ops: cosmostest.ReadOps})
}

// A hedgeClient opens a reader of acct's document docPath: read does one
// point read and returns an error unless it got the document.
type hedgeClient struct {
	name, title string
	open        func(tb testing.TB, acct *cosmostest.Account) (read func(context.Context) error)
}

var hedgeClients = []hedgeClient{
	{"cosmosrt", "cosmosrt, hedging off", func(tb testing.TB, acct *cosmostest.Account) func(context.Context) error {
		return chainReader(tb, acct, policy.HedgeOptions{})
	}},
	{"cosmosrt-hedge", "cosmosrt, hedging at 50 ms", func(tb testing.TB, acct *cosmostest.Account) func(context.Context) error {
		return chainReader(tb, acct, policy.HedgeOptions{Threshold: hedgeThreshold})
	}},
	{"azcosmos", "azcosmos v1.5.0 alone", azcosmosReader},
	// A diagnostic: hedging without demotion, so that what the hedges and
	// their budget do shows apart from what demoting East US does.
	{"cosmosrt-hedge-nodemote", "cosmosrt, hedging at 50 ms, never demoting", func(tb testing.TB, acct *cosmostest.Account) func(context.Context) error {
		return chainReader(tb, acct, policy.HedgeOptions{Threshold: hedgeThreshold, DemoteAfter: -1})
	}},
}

// readBase is the transport under every reader: a clone of
// http.DefaultTransport that keeps enough idle connections per region for
// the reads in flight (the default keeps 2).
func readBase(tb testing.TB) *http.Transport {
	base := newBase(tb)
	base.MaxIdleConnsPerHost = hedgeWorkers
	return base
}

// newReadChain is transport.New on acct with readRegions and hedge, over
// readBase. Requests go to the global endpoint unsigned: the chain signs
// them and routes them to a read region.
func newReadChain(tb testing.TB, acct *cosmostest.Account, hedge policy.HedgeOptions) *http.Client {
	return newCosmosrtWith(tb, readBase(tb), transport.Options{
		Endpoint: acct.Endpoint(), Key: acct.Key(), PreferredRegions: readRegions, Hedge: hedge,
	})
}

func chainReader(tb testing.TB, acct *cosmostest.Account, hedge policy.HedgeOptions) func(context.Context) error {
	client := newReadChain(tb, acct, hedge)
	url := strings.TrimSuffix(acct.Endpoint(), "/") + docPath
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		return drainOK(resp)
	}
}

// azcosmosReader is azcosmos alone on acct, over readBase, with
// readRegions as its PreferredRegions and its other options default: it
// routes reads to the regional endpoints the account document lists.
func azcosmosReader(tb testing.TB, acct *cosmostest.Account) func(context.Context) error {
	cred, err := azcosmos.NewKeyCredential(acct.Key())
	if err != nil {
		tb.Fatal(err)
	}
	client, err := azcosmos.NewClientWithKey(acct.Endpoint(), cred, &azcosmos.ClientOptions{
		ClientOptions:    azcore.ClientOptions{Transport: &http.Client{Transport: readBase(tb)}},
		PreferredRegions: readRegions,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.Close)
	items, err := client.NewContainer(benchDB, benchColl)
	if err != nil {
		tb.Fatal(err)
	}
	pk := azcosmos.NewPartitionKeyString("p1") // an implicit collection ignores it
	return func(ctx context.Context) error {
		_, err := items.ReadItem(ctx, pk, "1", nil)
		return err
	}
}

// drainOK reads and closes resp's body and returns an error unless its
// status is 200.
func drainOK(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d, want 200", resp.StatusCode)
	}
	return nil
}

// readStats is what one run of reads measured.
type readStats struct {
	reads          int
	p50, p99, p999 time.Duration
	extra          float64 // requests for the document beyond one per read, per read
	preferred      float64 // requests that reached East US, per read
}

// readRun runs reads reads of acct's document with read, hedgeWorkers at a
// time, timing each; the timer runs only around the reads. It then closes
// acct, which waits for the handlers of cancelled requests to return, so
// that its log holds every request that reached a region.
func readRun(b *testing.B, acct *cosmostest.Account, read func(context.Context) error, reads int) readStats {
	lat := make([]time.Duration, reads)
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	b.ResetTimer()
	for range hedgeWorkers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= reads || ctx.Err() != nil {
					return
				}
				start := time.Now()
				err := read(ctx)
				lat[i] = time.Since(start)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("read %d: %w", i, err) })
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	acct.Close()
	return summarize(acct, lat)
}

// summarize computes the percentiles of lat and, from acct's log, the
// requests for the document per read.
func summarize(acct *cosmostest.Account, lat []time.Duration) readStats {
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	total, preferred := docRequests(acct)
	n := float64(len(lat))
	return readStats{
		reads:     len(lat),
		p50:       percentile(sorted, 0.50),
		p99:       percentile(sorted, 0.99),
		p999:      percentile(sorted, 0.999),
		extra:     (float64(total) - n) / n,
		preferred: float64(preferred) / n,
	}
}

// docRequests counts the reads of the document in acct's log: all of them
// and those East US received. Cancelled hedges count: they reached a
// region.
func docRequests(acct *cosmostest.Account) (total, preferred int) {
	for _, e := range acct.Log() {
		if e.Method != http.MethodGet || e.Path != docPath {
			continue
		}
		total++
		if e.Region == slowRegion {
			preferred++
		}
	}
	return total, preferred
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// A hedgeResult is one sub-benchmark's last measurement.
type hedgeResult struct {
	scenario, client int // indexes in hedgeScenarios and hedgeClients
	stats            readStats
}

// BenchmarkHedgedReads reads one document from a cosmostest account, b.N
// reads, hedgeWorkers at a time, with East US as the preferred read region
// and North Europe next: healthy, with 10 % of East US's reads 500 ms slow
// (brownout10), and with every East US read 300 ms slow (region300). The
// readers are the chain without hedging (lib=cosmosrt), the chain hedging
// after 50 ms (lib=cosmosrt-hedge), azcosmos v1.5.0 alone (lib=azcosmos)
// and, to tell hedging from demotion, the chain hedging without ever
// demoting a region (lib=cosmosrt-hedge-nodemote).
//
// Each sub-benchmark starts a fresh account and reader, reads once before
// the scenario starts (the account document, the first connection), and
// reports the latency percentiles of the b.N reads and the requests the
// account received for the document: extra-req/call (beyond one per read)
// and eastus-req/call. ns/op is the run's wall time over b.N with reads in
// flight together: not a latency.
//
// It times a fixed number of reads, -benchtime 1000x (see BENCHMARKS.md),
// and skips itself under a -benchtime in seconds, which would time a
// handful of reads per row. With -hedgechart=file it writes the
// percentiles as an SVG chart.
func BenchmarkHedgedReads(b *testing.B) {
	if bt := flag.Lookup("test.benchtime"); bt == nil || !strings.HasSuffix(bt.Value.String(), "x") {
		b.Skip("times a fixed number of reads: run it with -benchtime 1000x")
	}
	var results []hedgeResult
	for si, s := range hedgeScenarios {
		for ci, c := range hedgeClients {
			b.Run("scenario="+s.name+"/lib="+c.name, func(b *testing.B) {
				acct := newAccount(b)
				read := c.open(b, acct)
				if err := read(b.Context()); err != nil {
					b.Fatal(err)
				}
				s.apply(acct)
				acct.ResetLog()
				st := readRun(b, acct, read, b.N)
				b.ReportMetric(ms(st.p50), "p50-ms")
				b.ReportMetric(ms(st.p99), "p99-ms")
				b.ReportMetric(ms(st.p999), "p99.9-ms")
				b.ReportMetric(st.extra, "extra-req/call")
				b.ReportMetric(st.preferred, "eastus-req/call")
				// The sub-benchmark runs once with b.N = 1 before the
				// measured run: keep the last.
				results = slices.DeleteFunc(results, func(r hedgeResult) bool { return r.scenario == si && r.client == ci })
				results = append(results, hedgeResult{si, ci, st})
			})
		}
	}
	if *hedgeChart == "" || len(results) == 0 {
		return
	}
	f, err := os.Create(*hedgeChart)
	if err != nil {
		b.Fatal(err)
	}
	err = writeHedgeChart(f, results)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		b.Fatal(err)
	}
}

// With the whole preferred region slow, the hedging chain sends the first
// reads' hedges to North Europe, demotes East US after DemoteAfter (5, the default)
// lost hedges and sends the later reads to North Europe alone: the
// brownout costs a few extra requests, not one per read. (The hedges win by
// 250 ms: East US answers after 300 ms, the hedge goes at 50 ms.)
func TestHedgingDemotesAWhollySlowRegion(t *testing.T) {
	const reads, demoteAfter = 20, 5
	acct := newAccount(t)
	client := newReadChain(t, acct, policy.HedgeOptions{Threshold: hedgeThreshold})
	url := strings.TrimSuffix(acct.Endpoint(), "/") + docPath
	read := func() {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		call(t, client, req, http.StatusOK)
	}
	read()
	regionSlow(acct)
	acct.ResetLog()
	for range reads {
		read()
	}
	status := client.Transport.(*transport.Transport).Status()
	acct.Close()

	total, east := docRequests(acct)
	if east != demoteAfter {
		t.Errorf("East US received %d reads, want %d (the hedged reads it lost before its demotion)", east, demoteAfter)
	}
	if extra := float64(total-reads) / reads; extra > 0.5 {
		t.Errorf("%.2f extra requests per read, want at most 0.5", extra)
	}
	read0 := status.Account.Read
	if len(read0) == 0 || read0[0].Region != "North Europe" {
		t.Errorf("read regions %+v, want North Europe first", read0)
	}
	for _, ep := range read0 {
		if ep.Region == slowRegion && ep.MarkedUntil.IsZero() {
			t.Errorf("East US is not marked unavailable for reads: %+v", ep)
		}
	}
}

// azcosmos alone follows its PreferredRegions to the regional endpoints
// the simulated account lists, so its row in BenchmarkHedgedReads reads
// from East US as the chain's do.
func TestAzcosmosAloneReadsFromItsPreferredRegion(t *testing.T) {
	acct := newAccount(t)
	read := azcosmosReader(t, acct)
	if err := read(t.Context()); err != nil {
		t.Fatal(err)
	}
	acct.ResetLog()
	if err := read(t.Context()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range acct.Log() {
		got = append(got, e.Method+" "+e.Path+" "+e.Region)
	}
	if want := []string{"GET " + docPath + " " + slowRegion}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}
