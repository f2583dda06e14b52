package cosmostest_test

import (
	"fmt"
	"net/http"
	"strings"

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
