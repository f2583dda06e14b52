package bench

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// okBase is an in-process http.RoundTripper that consumes the request's
// body and answers 200 with doc, so that a benchmark through it measures
// the libraries' own work without the network's noise.
type okBase struct{}

func (okBase) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(doc)),
		ContentLength: int64(len(doc)),
		Request:       req,
	}, nil
}

// memTransport is an *http.Transport that answers "http" requests from
// okBase: the Base every library gets by default, with nothing on the
// network. cosmosrt tunes itself for an *http.Transport Base (it watches
// its connections, and closes a stalled body instead of giving each
// attempt a context of its own), so this is the in-memory view of its
// usual configuration.
func memTransport() *http.Transport {
	t := &http.Transport{}
	t.RegisterProtocol("http", okBase{})
	return t
}

// BenchmarkChainOnly is BenchmarkGet and BenchmarkPost over okBase instead
// of a loopback connection: what remains is each library's own cost per
// call (plus http.Client's and the fake's, the same for all), which the
// loopback round trip's noise hides. base=fake gives the libraries okBase
// itself, base=transport an *http.Transport that answers from okBase.
func BenchmarkChainOnly(b *testing.B) {
	type op struct {
		name    string
		method  string
		body    []byte
		getBody bool
	}
	for _, o := range []op{
		{"op=get", http.MethodGet, nil, false},
		{"op=post/getbody=yes", http.MethodPost, payload, true},
		{"op=post/getbody=no", http.MethodPost, payload, false},
	} {
		for _, base := range []string{"fake", "transport"} {
			b.Run(o.name+"/base="+base, func(b *testing.B) {
				for _, c := range all {
					b.Run(name(c), func(b *testing.B) {
						var rt http.RoundTripper = okBase{}
						if base == "transport" {
							rt = memTransport()
						}
						client := c.client(b, rt)
						b.ReportAllocs()
						b.ResetTimer()
						for range b.N {
							var body io.Reader
							if o.body != nil {
								body = bytes.NewReader(o.body)
							}
							req, err := http.NewRequest(o.method, "http://127.0.0.1:1"+docPath, body)
							if err != nil {
								b.Fatal(err)
							}
							if !o.getBody {
								req.GetBody = nil
							}
							call(b, client, req, http.StatusOK)
						}
					})
				}
			})
		}
	}
}
