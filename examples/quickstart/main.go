// Command quickstart runs the chain against a simulated three-region Cosmos
// DB account on loopback: a plain http.Client sends unsigned REST requests,
// and the chain signs them, rides out throttling, follows a manual
// failover and steers reads around an unavailable region. It needs no
// Azure account.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/transport"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	acct := cosmostest.NewAccount(cosmostest.Options{}) // West US 2 (writes), East US, North Europe
	defer acct.Close()

	rt, err := transport.New(transport.Options{
		Endpoint:         acct.Endpoint(),
		Key:              acct.Key(),
		PreferredRegions: []string{"North Europe", "East US"},
	})
	if err != nil {
		return err
	}
	defer rt.Close()
	client := &http.Client{Transport: rt, Timeout: 30 * time.Second}
	ctx := context.Background()

	step := func(title string, method, path, body string) error {
		acct.ResetLog()
		status, err := send(ctx, client, acct.Endpoint(), method, path, body)
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		fmt.Fprintf(out, "%s → %d\n", title, status)
		for _, e := range acct.Log() {
			if e.Path == "/" {
				fmt.Fprintf(out, "    %-13s %s %s (DatabaseAccount look-up) %d\n", e.Region, e.Method, e.Path, e.Status)
				continue
			}
			sub := ""
			if e.SubStatus != 0 {
				sub = fmt.Sprintf(".%d", e.SubStatus)
			}
			fmt.Fprintf(out, "    %-13s %s %s %d%s\n", e.Region, e.Method, e.Path, e.Status, sub)
		}
		return nil
	}

	if err := step("create item 1", http.MethodPost, "/dbs/shop/colls/orders/docs", `{"id":"1","total":42}`); err != nil {
		return err
	}

	acct.Inject(acct.WriteRegion(), cosmostest.Fault{
		Status: http.StatusTooManyRequests, SubStatus: 3200, Count: 2, Ops: cosmostest.WriteOps,
		Header: http.Header{"X-Ms-Retry-After-Ms": {"50"}},
	})
	if err := step("create item 2 while throttled twice", http.MethodPost, "/dbs/shop/colls/orders/docs", `{"id":"2","total":7}`); err != nil {
		return err
	}

	if err := acct.Failover("East US"); err != nil {
		return err
	}
	if err := step("create item 3 after a manual failover to East US", http.MethodPost, "/dbs/shop/colls/orders/docs", `{"id":"3","total":9}`); err != nil {
		return err
	}
	if err := step("create item 4, straight to the new write region", http.MethodPost, "/dbs/shop/colls/orders/docs", `{"id":"4","total":1}`); err != nil {
		return err
	}

	acct.Inject("North Europe", cosmostest.Fault{Status: http.StatusServiceUnavailable, Count: 1, Ops: cosmostest.ReadOps})
	if err := step("read item 3 while North Europe answers 503", http.MethodGet, "/dbs/shop/colls/orders/docs/3", ""); err != nil {
		return err
	}

	for _, id := range []string{"1", "2", "3", "4"} {
		fmt.Fprintf(out, "item %s committed %d time(s)\n", id, acct.Commits("shop", "orders", id))
	}
	return nil
}

// send makes one plain, unsigned REST request: the chain signs it.
func send(ctx context.Context, c *http.Client, endpoint, method, path, body string) (int, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(endpoint, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
