package azcosmosrt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"github.com/cosmosrt/cosmosrt/azcosmosrt"
	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/transport"
)

// An item is created, the account fails over to East US, the item is
// replaced and read back while East US throttles the read once. The caller
// sees three successes; the account saw the refused write and the
// throttled read, each retried once by the chain.
func ExampleNewClientWithKey() {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 (writes), East US, North Europe
	defer acct.Close()

	key, err := region.NewMasterKey(acct.Key()) // key.Update(newKey) rotates it everywhere
	if err != nil {
		log.Fatal(err)
	}
	client, err := azcosmosrt.NewClientWithKey(acct.Endpoint(), key, &azcosmosrt.Options{
		Chain: transport.Options{PreferredRegions: []string{"East US"}},
	})
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
	created, err := orders.CreateItem(ctx, pk, []byte(`{"id":"1","pk":"eu","total":10}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("create:", created.RawResponse.StatusCode)

	if err := acct.Failover("East US"); err != nil { // a manual failover
		log.Fatal(err)
	}
	acct.Inject("East US", cosmostest.Fault{
		Status: http.StatusTooManyRequests, Header: http.Header{"X-Ms-Retry-After-Ms": {"10"}},
		Ops: cosmostest.ReadOps, Count: 1,
	})
	replaced, err := orders.ReplaceItem(ctx, pk, "1", []byte(`{"id":"1","pk":"eu","total":11}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("replace:", replaced.RawResponse.StatusCode)
	read, err := orders.ReadItem(ctx, pk, "1", nil)
	if err != nil {
		log.Fatal(err)
	}
	var item struct{ Total int }
	if err := json.Unmarshal(read.Value, &item); err != nil {
		log.Fatal(err)
	}
	fmt.Println("read:", read.RawResponse.StatusCode, "total", item.Total)

	fmt.Println("at the account:")
	for _, e := range acct.Log() {
		if strings.Contains(e.Path, "/docs") { // the item's requests: not the chain's own reads of metadata
			fmt.Println(" ", e.Method, e.Region, e.Status, e.SubStatus)
		}
	}
	fmt.Println("commits:", acct.Commits("shop", "orders", "1"))
	// Output:
	// create: 201
	// replace: 200
	// read: 200 total 11
	// at the account:
	//   POST West US 2 201 0
	//   PUT West US 2 403 3
	//   PUT East US 200 0
	//   GET East US 429 0
	//   GET East US 200 0
	// commits: 2
}
