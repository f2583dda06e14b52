package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/policy"
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

// A batch job joins a throughput group of its own: its calls are paced to
// 10 RU/s in the container and marked Low priority, and a call whose turn
// comes after its deadline fails at once, before it is sent.
func ExampleRequestOptions_throughputGroup() {
	acct := cosmostest.NewAccount(cosmostest.Options{Regions: []string{"West US 2"}})
	defer acct.Close()
	rt, err := transport.New(transport.Options{
		Endpoint: acct.Endpoint(), Key: acct.Key(),
		Throughput: policy.ThroughputOptions{Groups: []policy.ThroughputGroup{
			{Name: "batch", TargetRU: 10, Priority: policy.PriorityLow},
		}},
	})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	batch := transport.WithRequestOptions(context.Background(), transport.RequestOptions{ThroughputGroup: "batch"})
	create := func(ctx context.Context, id string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, acct.Endpoint()+"dbs/shop/colls/orders/docs",
			strings.NewReader(`{"id":"`+id+`"}`))
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
		return nil
	}
	_ = create(batch, "1") // about 6 RU: the group's next turn is over half a second away

	soon, cancel := context.WithTimeout(batch, 100*time.Millisecond)
	defer cancel()
	err = create(soon, "2")
	fmt.Println(errors.Is(err, transport.ErrThroughputLimit), acct.Commits("shop", "orders", "2"))
	for _, e := range acct.Log() {
		if e.Write {
			fmt.Println(e.Status, "low priority:", e.LowPriority)
		}
	}
	// Output:
	// 201 Created
	// true 0
	// 201 low priority: true
}
