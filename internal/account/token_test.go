package account

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cosmosrt/cosmosrt/region"
)

func TestSignWithAFailingTokenSignsNothing(t *testing.T) {
	cause := errors.New("token source down")
	for _, f := range []region.TokenFunc{
		func(context.Context) (string, error) { return "", cause },
		func(context.Context) (string, error) { return "", nil },
	} {
		req, err := http.NewRequest(http.MethodGet, "https://contoso.documents.azure.com/", nil)
		require.NoError(t, err)
		err = Sign(context.Background(), req, f, time.Now())
		require.Error(t, err)
		assert.True(t, errors.Is(err, cause) || errors.Is(err, region.ErrEmptyToken), err.Error())
		assert.True(t, strings.HasPrefix(err.Error(), "getting the Authorization header: region: "), err.Error())
		assert.Equal(t, 1, strings.Count(err.Error(), "region:"), "context added once: %s", err)
		assert.Empty(t, req.Header.Get("Authorization"), "a failed signature leaves the request unsigned")
	}
}
