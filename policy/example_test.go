package policy_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
	"github.com/cosmosrt/cosmosrt/transport"
)

// Tighter retry rules for a latency-sensitive service: a write answered
// 503 twice is retried twice, after short backoffs on the same write
// region, and a 429 is returned at once instead of waiting the server's
// hint.
func ExampleRetryOptions() {
	acct := cosmostest.NewAccount(cosmostest.Options{})
	defer acct.Close()
	rt, err := transport.New(transport.Options{
		Endpoint: acct.Endpoint(),
		Key:      acct.Key(),
		Retry: policy.RetryOptions{
			UnavailableInitial: 5 * time.Millisecond,
			UnavailableMax:     20 * time.Millisecond,
			MaxThrottleRetries: -1, // a 429 comes back to the caller
		},
	})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	create := func(id string) string {
		resp, err := client.Post(acct.Endpoint()+"dbs/shop/colls/orders/docs", "application/json",
			strings.NewReader(`{"id":"`+id+`"}`))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp.Status
	}

	acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusServiceUnavailable, Count: 2, Ops: cosmostest.WriteOps})
	fmt.Println(create("1"))
	acct.Inject("West US 2", cosmostest.Fault{Status: http.StatusTooManyRequests, Count: 1, Ops: cosmostest.WriteOps})
	fmt.Println(create("2"))
	fmt.Println("write attempts:", acct.Requests("West US 2"))
	// Output:
	// 201 Created
	// 429 Too Many Requests
	// write attempts: 4
}
