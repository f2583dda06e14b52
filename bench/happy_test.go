package bench

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

const (
	docPath  = "/dbs/bench/colls/items/docs/1"
	docsPath = "/dbs/bench/colls/items/docs"
)

// payload is a 1 KiB JSON document to create.
var payload = func() []byte {
	head, tail := `{"id":"1","pk":"p1","data":"`, `"}`
	return []byte(head + strings.Repeat("x", 1024-len(head)-len(tail)) + tail)
}()

// BenchmarkGet is a read that succeeds at once (200, a small JSON body): the
// cost of each library's chain over bare net/http.
func BenchmarkGet(b *testing.B) {
	for _, c := range all {
		b.Run(name(c), func(b *testing.B) {
			srv, cnt := newServer(b, okHandler())
			client := c.client(b, newBase(b))
			url := srv.URL + docPath
			getLoop(b, client, url, http.StatusOK)
			perOp(b, cnt.requests.Load(), "attempts/op")
			perOp(b, cnt.conns.Load(), "conns/op")
		})
	}
}

// BenchmarkPost creates a 1 KiB document (201). With getbody=yes the request
// has GetBody (as http.NewRequest sets for a bytes.Reader); with getbody=no
// it has not, so a library that wants to be able to resend must copy the
// body first.
func BenchmarkPost(b *testing.B) {
	for _, getBody := range []bool{true, false} {
		mode := "getbody=yes"
		if !getBody {
			mode = "getbody=no"
		}
		b.Run(mode, func(b *testing.B) {
			for _, c := range all {
				b.Run(name(c), func(b *testing.B) {
					srv, cnt := newServer(b, createHandler())
					client := c.client(b, newBase(b))
					url := srv.URL + docsPath
					b.ReportAllocs()
					b.SetBytes(int64(len(payload)))
					b.ResetTimer()
					for range b.N {
						req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
						if err != nil {
							b.Fatal(err)
						}
						if !getBody {
							req.GetBody = nil
						}
						req.Header.Set("Content-Type", "application/json")
						call(b, client, req, http.StatusCreated)
					}
					b.StopTimer()
					perOp(b, cnt.requests.Load(), "attempts/op")
					perOp(b, cnt.conns.Load(), "conns/op")
				})
			}
		})
	}
}
