package bench

import (
	"net/http"
	"testing"

	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// outageContenders are the retrying contenders plus two variants that
// show where the difference comes from: cosmosrt with its retry budget
// off, and failsafe-go with its own retry budget on.
var outageContenders = []contender{
	cosmosrt,
	{"cosmosrt-nobudget", newCosmosrtNoBudget},
	retryable,
	failsafe,
	{"failsafego-budget", newFailsafeBudget},
}

// newCosmosrtNoBudget is newCosmosrt with the retry budget turned off.
func newCosmosrtNoBudget(tb testing.TB, base http.RoundTripper) *http.Client {
	r := cosmosrtRetry()
	r.Budget = policy.BudgetOptions{Tokens: -1}
	return newCosmosrtWith(tb, base, transport.Options{Retry: r})
}

// BenchmarkOutage sends reads, one after the other, to a server that
// answers every request 503 without a hint. Each library's client is built
// once per run and used for all b.N calls, so a budget shared by a
// client's calls takes effect. attempts/call is what the outage costs the
// server; with three retries a library without a budget makes 4. The
// answer every call gets is the last 503.
func BenchmarkOutage(b *testing.B) {
	for _, c := range outageContenders {
		b.Run(name(c), func(b *testing.B) {
			srv, cnt := newServer(b, unavailableHandler())
			client := c.client(b, newBase(b))
			url := srv.URL + docPath
			getLoop(b, client, url, http.StatusServiceUnavailable)
			perOp(b, cnt.requests.Load(), "attempts/call")
			perOp(b, cnt.conns.Load(), "conns/op")
		})
	}
}
