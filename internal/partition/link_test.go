package partition

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContainerLink(t *testing.T) {
	for link, want := range map[string]string{
		"dbs/shop/colls/orders":                   "dbs/shop/colls/orders",
		"dbs/shop/colls/orders/docs":              "dbs/shop/colls/orders",
		"dbs/shop/colls/orders/docs/1":            "dbs/shop/colls/orders",
		"dbs/shop/colls/orders/pkranges":          "dbs/shop/colls/orders",
		"dbs/AbCdEF==/colls/AbCdEFGHIJ=/docs/x":   "dbs/AbCdEF==/colls/AbCdEFGHIJ=",
		"dbs/shop/colls":                          "",
		"dbs/shop/colls/":                         "",
		"dbs/shop":                                "",
		"dbs//colls/orders":                       "",
		"dbs/shop/users/u":                        "",
		"offers/x":                                "",
		"":                                        "",
		"/dbs/shop/colls/orders":                  "",
		"dbs/shop/colls/orders/docs/a/colls/nope": "dbs/shop/colls/orders",
	} {
		assert.Equal(t, want, ContainerLink(link), link)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { ContainerLink("dbs/shop/colls/orders/docs/1") }))
}
