package cosmostest_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/cosmostest"
)

func Example() {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 (writes), East US, North Europe
	defer acct.Close()

	create := func(region string) {
		url := acct.RegionEndpoint(region) + "dbs/shop/colls/orders/docs"
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"id":"order-1"}`))
		if err := acct.Sign(req); err != nil {
			fmt.Println(err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(region + ": " + resp.Status + " " + resp.Header.Get("x-ms-substatus")))
	}

	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200, Count: 1,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"5"}},
	})
	create("West US 2") // throttled: not committed
	create("West US 2")
	if err := acct.Failover("East US"); err != nil {
		fmt.Println(err)
	}
	create("West US 2") // no longer the write region
	create("East US")   // the store is shared: the order exists
	fmt.Println("commits:", acct.Commits("shop", "orders", "order-1"))
	fmt.Println("requests at West US 2:", acct.Requests("West US 2"))

	// Output:
	// West US 2: 429 Too Many Requests 3200
	// West US 2: 201 Created
	// West US 2: 403 Forbidden 3
	// East US: 409 Conflict
	// commits: 1
	// requests at West US 2: 3
}

// A write whose connection is lost after the commit: the client cannot
// tell whether it ran, and the account can.
func ExampleFault_dropAfterCommit() {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	acct.Inject("West US 2", cosmostest.Fault{DropAfterCommit: true, Ops: cosmostest.WriteOps, Count: 1})

	url := acct.RegionEndpoint("West US 2") + "dbs/shop/colls/orders/docs"
	req, _ := http.NewRequest("POST", url, strings.NewReader(`{"id":"order-1"}`))
	if err := acct.Sign(req); err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		fmt.Println("answered:", resp.Status)
	} else {
		fmt.Println("the client got no answer")
	}
	e := acct.Log()[0]
	fmt.Println("dropped:", e.Dropped, "committed:", e.Committed)
	fmt.Println("commits:", acct.Commits("shop", "orders", "order-1"))

	// Output:
	// the client got no answer
	// dropped: true committed: true
	// commits: 1
}

// A fault in one partition key range, and a split of that range.
func Example_partitionKeyRanges() {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	send := func(method, path, body string, hdr ...string) {
		req, _ := http.NewRequest(method, acct.Endpoint()+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if err := acct.Sign(req); err != nil {
			fmt.Println(err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		line := fmt.Sprint(method, " ", path, ": ", resp.StatusCode)
		if sub := resp.Header.Get("x-ms-substatus"); sub != "" {
			line += "." + sub
		}
		if rng := resp.Header.Get("x-ms-documentdb-partitionkeyrangeid"); rng != "" {
			line += ", range " + rng
		}
		fmt.Println(line)
	}
	eu := []string{"x-ms-documentdb-partitionkey", `["eu"]`}
	send("POST", "dbs", `{"id":"shop"}`)
	send("POST", "dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/region"],"kind":"Hash"}}`)
	send("POST", "dbs/shop/colls/orders/docs", `{"id":"1","region":"eu"}`, eu...)

	acct.Inject(cosmostest.Global, cosmostest.Fault{Status: http.StatusInternalServerError, Range: "1", Count: 1})
	send("GET", "dbs/shop/colls/orders/docs/1", "", eu...) // the faulted answer names its range

	if err := acct.Split("shop", "orders", "1"); err != nil {
		fmt.Println(err)
	}
	send("GET", "dbs/shop/colls/orders/docs/1", "", eu...) // in the upper child now
	send("GET", "dbs/shop/colls/orders/docs", "", "x-ms-documentdb-partitionkeyrangeid", "1")

	// Output:
	// POST dbs: 201
	// POST dbs/shop/colls: 201
	// POST dbs/shop/colls/orders/docs: 201, range 1
	// GET dbs/shop/colls/orders/docs/1: 500, range 1
	// GET dbs/shop/colls/orders/docs/1: 200, range 3
	// GET dbs/shop/colls/orders/docs: 410.1002
}

// A container with four partition key ranges of 100 RU/s each, on a clock
// that stands still: a range's second is spent after 100 RU.
func Example_throughput() {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acct := cosmostest.NewAccount(cosmostest.Options{InitialRanges: 4, Now: func() time.Time { return at }})
	defer acct.Close()
	send := func(method, path, body string, hdr ...string) *http.Response {
		req, _ := http.NewRequest(method, acct.Endpoint()+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		if err := acct.Sign(req); err != nil {
			panic(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp
	}
	send("POST", "dbs", `{"id":"shop"}`)
	send("POST", "dbs/shop/colls", `{"id":"orders","partitionKey":{"paths":["/pk"],"kind":"Hash"}}`,
		"x-ms-offer-throughput", "400") // 100 RU/s for each of the 4 ranges
	eu := []string{"x-ms-documentdb-partitionkey", `["eu"]`}
	w := send("POST", "dbs/shop/colls/orders/docs", `{"id":"1","pk":"eu"}`, eu...)
	fmt.Println("create:", w.StatusCode, w.Header.Get("x-ms-request-charge"), "RU, range", w.Header.Get("x-ms-documentdb-partitionkeyrangeid"))

	reads := 0
	for {
		r := send("GET", "dbs/shop/colls/orders/docs/1", "", eu...)
		if r.StatusCode != http.StatusOK {
			fmt.Println("reads:", reads)
			fmt.Println("then:", r.StatusCode, r.Header.Get("x-ms-substatus"), "retry after", r.Header.Get("x-ms-retry-after-ms"), "ms")
			break
		}
		reads++
	}
	low := send("GET", "dbs/shop/colls/orders/docs/1", "", append(eu, "x-ms-cosmos-priority-level", "Low")...)
	fmt.Println("low priority:", low.StatusCode, "retry after", low.Header.Get("x-ms-retry-after-ms"), "ms")

	// Output:
	// create: 201 5.71 RU, range 3
	// reads: 95
	// then: 429 3200 retry after 8 ms
	// low priority: 429 retry after 108 ms
}
