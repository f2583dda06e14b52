package region_test

import (
	"fmt"
	"net/http"

	"github.com/cosmosrt/cosmosrt/cosmostest"
	"github.com/cosmosrt/cosmosrt/region"
	"github.com/cosmosrt/cosmosrt/transport"
)

// A key rotated in place: the chain keeps signing with the *MasterKey it
// was given, now holding the new key, and the key never prints.
func ExampleMasterKey_Update() {
	oldKey := cosmostest.DefaultKey
	newKey := "bmV3IGtleSBhZnRlciByb3RhdGlvbiwgYSBwdWJsaWMgdGVzdCB2YWx1ZSwgbm90IGEgc2VjcmV0IQ=="
	acct := cosmostest.NewAccount(cosmostest.Options{Key: newKey}) // the account already takes the new key
	defer acct.Close()

	key, err := region.NewMasterKey(oldKey)
	if err != nil {
		panic(err)
	}
	rt, err := transport.New(transport.Options{Endpoint: acct.Endpoint(), Credential: key})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	client := &http.Client{Transport: rt}
	read := func() string {
		resp, err := client.Get(acct.Endpoint() + "dbs/shop/colls/orders/docs")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		return resp.Status
	}

	fmt.Println(read())
	if err := key.Update(newKey); err != nil {
		panic(err)
	}
	fmt.Println(read())
	fmt.Printf("%v\n", key)
	// Output:
	// 401 Unauthorized
	// 200 OK
	// region.MasterKey(redacted)
}
