package bench

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// newAccount starts a cosmostest account holding the document docPath
// names. It is closed when tb ends.
func newAccount(tb testing.TB) *cosmostest.Account {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	tb.Cleanup(acct.Close)
	url := strings.TrimSuffix(acct.Endpoint(), "/") + docsPath
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(doc))
	if err != nil {
		tb.Fatal(err)
	}
	if err := acct.Sign(req); err != nil {
		tb.Fatal(err)
	}
	call(tb, http.DefaultClient, req, http.StatusCreated)
	return acct
}

// BenchmarkAccountRead reads one document from a simulated account
// (cosmostest: signature check, request log, document store), so the
// server's own work is in every number. sign=caller: the caller signs each
// request (acct.Sign); sign=chain: the request goes unsigned and cosmosrt
// signs it with the account's key. cosmosrt here is transport.New with the
// account's Endpoint: it reads the DatabaseAccount document once (before
// the timer starts) and routes each read to the first read region.
func BenchmarkAccountRead(b *testing.B) {
	type variant struct {
		name       string
		chain      bool // cosmosrt with Endpoint, else bare net/http
		callerSign bool
	}
	for _, v := range []variant{
		{"lib=nethttp/sign=caller", false, true},
		{"lib=cosmosrt/sign=caller", true, true},
		{"lib=cosmosrt/sign=chain", true, false},
	} {
		b.Run(v.name, func(b *testing.B) {
			acct := newAccount(b)
			base := newBase(b)
			client := &http.Client{Transport: base}
			if v.chain {
				client = newCosmosrtWith(b, base, transport.Options{
					Endpoint: acct.Endpoint(), Key: acct.Key(), Retry: cosmosrtRetry(),
				})
			}
			url := strings.TrimSuffix(acct.Endpoint(), "/") + docPath
			read := func() {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					b.Fatal(err)
				}
				if v.callerSign {
					if err := acct.Sign(req); err != nil {
						b.Fatal(err)
					}
				}
				call(b, client, req, http.StatusOK)
			}
			read() // the chain's first call reads the account document
			acct.ResetLog()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				read()
				if i%1024 == 1023 {
					acct.ResetLog() // the account logs every request: keep its memory bounded
				}
			}
		})
	}
}
