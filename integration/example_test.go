package integration_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/integration"
	"github.com/cosmosrt/cosmosrt/transport"
)

// The recommended configuration: the chain knows the account and the
// preferred regions; azcosmos gets the chain as its transport, with azcore's
// retries off. Every call has a deadline. Here the write is throttled twice.
func ExampleClientOptions() {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 (writes), East US, North Europe
	defer acct.Close()
	acct.Inject("West US 2", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Header: http.Header{"X-Ms-Retry-After-Ms": {"10"}},
		Ops: cosmostest.WriteOps, Count: 2,
	})
	endpoint, key := acct.Endpoint(), acct.Key()

	rt, err := transport.New(transport.Options{
		Endpoint:         endpoint,
		Key:              key,
		PreferredRegions: []string{"East US"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()
	cred, err := azcosmos.NewKeyCredential(key)
	if err != nil {
		log.Fatal(err)
	}
	client, err := azcosmos.NewClientWithKey(endpoint, cred, integration.ClientOptions(rt))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	orders, err := client.NewContainer("shop", "orders")
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pk := azcosmos.NewPartitionKeyString("eu")
	if _, err := orders.CreateItem(ctx, pk, []byte(`{"id":"1","pk":"eu","total":10}`), nil); err != nil {
		log.Fatal(err)
	}
	if _, err := orders.ReadItem(ctx, pk, "1", nil); err != nil {
		log.Fatal(err)
	}

	for _, e := range acct.Log() {
		if e.Path != "/" { // leave out the DatabaseAccount look-ups
			fmt.Println(e.Method, e.Region, e.Status)
		}
	}
	fmt.Println("commits:", acct.Commits("shop", "orders", "1"))
	// Output:
	// POST West US 2 429
	// POST West US 2 429
	// POST West US 2 201
	// GET East US 200
	// commits: 1
}
