package transport_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

// A plain REST client, with the chain as its transport, rides out a
// throttled write and a manual failover on a simulated account.
func ExampleNew() {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 takes writes
	defer acct.Close()

	rt, err := transport.New(transport.Options{Endpoint: acct.Endpoint(), Key: acct.Key()})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	create := func(id string) string {
		// No Authorization header: the chain signs requests to the account.
		resp, err := client.Post(acct.Endpoint()+"dbs/shop/colls/orders/docs", "application/json",
			strings.NewReader(`{"id":"`+id+`"}`))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.Status
	}
	fmt.Println(create("1"))

	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Count: 1, Ops: cosmostest.WriteOps,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"5"}},
	})
	_ = acct.Failover("East US")
	acct.ResetLog()
	fmt.Println(create("2"))

	for _, e := range acct.Log() {
		if e.Write {
			fmt.Println(e.Region, e.Status, e.SubStatus)
		}
	}
	fmt.Println("commits:", acct.Commits("shop", "orders", "2"))
	// Output:
	// 201 Created
	// 201 Created
	// West US 2 429 0
	// West US 2 403 3
	// East US 201 0
	// commits: 1
}
